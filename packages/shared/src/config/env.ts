import { hostname } from 'node:os';
import { z } from 'zod';
import { replicaId } from '../identity.js';
import { IdleForgetAfter } from './idle-forget.js';

/**
 * What every service's configuration shares: the error type, the value
 * helpers, the common variables and their parsing. Every environment
 * variable quantmon reads is named in this folder and only here; each
 * service calls its `load*Config(process.env)` from main.ts, and a bad value
 * throws a ConfigError naming the variable and what was expected.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);
export const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
export const num = (fallback: number) =>
  z.coerce.number().refine(Number.isFinite, 'must be a finite number').default(fallback);
export const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );
export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Keys are the environment variable names; the parsed values are renamed below. */
export const CommonEnv = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** Seed nodes of a Redis Cluster (comma-separated redis:// URLs): when set, REDIS_URL is not used. */
  REDIS_CLUSTER_NODES: list.pipe(z.array(z.url({ protocol: /^rediss?$/ }))),
  /** Replicas that must confirm every ingest batch and fenced write (WAIT): 0 trusts asynchronous replication. */
  REDIS_WAIT_REPLICAS: int(0, 0, 16),
  REDIS_WAIT_TIMEOUT_MS: int(1000, 10, 60_000),
  /** Partition count P, fixed when a pipeline is first created (stored in Redis); unset: the stored P, else 8. */
  PARTITIONS: z.coerce.number().int().min(1).max(1024).optional(),
  /** This replica's identity; default hostname-pid-random. Set it for static membership. */
  REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  QUANTMON_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('quantmon'),
  /** BullMQ key prefix; default `bull`, or `{bull}` on a Cluster (one hash tag per queue). */
  BULLMQ_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.{}-]{1,64}$/)
    .optional(),
  LOG_LEVEL: LogLevel.default('info'),
  LISTEN_HOST: z.string().min(1).default('127.0.0.1'),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 600_000),
  /**
   * The process that started this one and stops it (`npm start` sets its own
   * pid): when it is gone (SIGKILLed, no chance to stop its children), this
   * process stops as on SIGTERM instead of running on, orphaned.
   */
  QUANTMON_SUPERVISOR_PID: z.coerce.number().int().positive().optional(),
  /** A consumer loop with work waiting and no progress this long fails /healthz (503). */
  LOOP_STUCK_MS: int(60_000, 1000, 3_600_000),
  /** The strategy catalogue (YAML, or JSON by its .json extension): per-strategy parameters, windows, tags. */
  STRATEGIES_FILE: z.string().min(1).optional(),
  /** Strategies and hosts silent this long are forgotten everywhere (idle-forget.ts); 0/off: never. */
  IDLE_FORGET_AFTER: IdleForgetAfter,
});

export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => {
      const name = i.path.join('.');
      const got = name in env ? ` (got ${JSON.stringify(env[name])})` : '';
      return `${name}: ${i.message}${got}`;
    }),
  );
}

export interface CommonConfig {
  redisUrl: string;
  /** Seed nodes of a Redis Cluster; empty for a single Redis. */
  clusterNodes: string[];
  /** WAIT after every ingest batch and fenced write (REDIS_WAIT_REPLICAS > 0), else undefined. */
  replicaWait: { replicas: number; timeoutMs: number } | undefined;
  /** PARTITIONS when set; undefined adopts the pipeline's stored count (ensurePartitionCount). */
  partitions: number | undefined;
  /** This replica's identity: unique per process (hostname, pid and a random part) unless REPLICA_ID. */
  replicaId: string;
  prefix: string;
  bullPrefix: string;
  logLevel: z.infer<typeof LogLevel>;
  listenHost: string;
  shutdownTimeoutMs: number;
  /** QUANTMON_SUPERVISOR_PID: stop when this parent is gone (supervisor-watch.ts); undefined: never. */
  supervisorPid: number | undefined;
  /** /healthz fails when a consumer loop has had work and made no progress this long. */
  loopStuckMs: number;
  /** STRATEGIES_FILE: the strategy catalogue; undefined: none (today's defaults, or the admin API's). */
  strategiesFile: string | undefined;
  /** IDLE_FORGET_AFTER in ms: state of a strategy or host silent this long is dropped; 0 never. */
  idleForgetAfterMs: number;
}

export function common(e: z.infer<typeof CommonEnv>, service: string): CommonConfig {
  const cluster = e.REDIS_CLUSTER_NODES.length > 0;
  return {
    redisUrl: e.REDIS_URL,
    clusterNodes: e.REDIS_CLUSTER_NODES,
    replicaWait:
      e.REDIS_WAIT_REPLICAS > 0
        ? { replicas: e.REDIS_WAIT_REPLICAS, timeoutMs: e.REDIS_WAIT_TIMEOUT_MS }
        : undefined,
    partitions: e.PARTITIONS,
    replicaId: e.REPLICA_ID ?? replicaId(service),
    prefix: e.QUANTMON_PREFIX,
    // BullMQ's keys must share one Cluster slot per queue: a hash-tagged prefix.
    bullPrefix: e.BULLMQ_PREFIX ?? (cluster ? '{bull}' : 'bull'),
    logLevel: e.LOG_LEVEL,
    listenHost: e.LISTEN_HOST,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    supervisorPid: e.QUANTMON_SUPERVISOR_PID,
    loopStuckMs: e.LOOP_STUCK_MS,
    strategiesFile: e.STRATEGIES_FILE,
    idleForgetAfterMs: e.IDLE_FORGET_AFTER,
  };
}

/** A host label safe for keys: the machine's hostname with odd characters replaced. */
export function defaultHostId(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 128) || 'localhost'
  );
}
