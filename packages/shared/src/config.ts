import { hostname } from 'node:os';
import { z } from 'zod';
import { replicaId } from './identity.js';

/**
 * Every environment variable quantmon reads is named in this file and only
 * here. Each service calls its `load*Config(process.env)` from main.ts; a bad
 * value throws a ConfigError naming the variable and what was expected.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const num = (fallback: number) =>
  z.coerce.number().refine(Number.isFinite, 'must be a finite number').default(fallback);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );
const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Keys are the environment variable names; the parsed values are renamed below. */
const CommonEnv = z.object({
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
});

function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
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
}

function common(e: z.infer<typeof CommonEnv>, service: string): CommonConfig {
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
  };
}

/** A host label safe for keys: the machine's hostname with odd characters replaced. */
function defaultHostId(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 128) || 'localhost'
  );
}

const HttpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const HttpStatus = z.number().int().min(100).max(599);

/** One HTTP probe, as written in the PROBES JSON array. */
export const ProbeSpec = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }),
    /** Default: the URL's host. Names label the probe's result. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
      .optional(),
    method: HttpMethod.default('GET'),
    timeoutMs: z.number().int().min(10).max(120_000).default(2000),
    /** Expected status(es); default any 2xx. */
    expectStatus: z.union([HttpStatus, z.array(HttpStatus).min(1)]).optional(),
    intervalMs: z.number().int().min(250).max(3_600_000).default(10_000),
    headers: z.record(z.string().min(1), z.string()).optional(),
  })
  .transform(({ name, ...p }) => ({
    ...p,
    name: name ?? new URL(p.url).host.replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 64),
  }));
export type ProbeSpec = z.infer<typeof ProbeSpec>;

/** PROBES: a JSON array of probe objects; names must be unique. */
const ProbesJson = z
  .string()
  .default('[]')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of probe objects' });
      return z.NEVER;
    }
  })
  .pipe(z.array(ProbeSpec).max(100))
  .superRefine((probes, ctx) => {
    const seen = new Set<string>();
    for (const p of probes) {
      if (seen.has(p.name)) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate probe name "${p.name}": give each probe a distinct "name"`,
        });
      }
      seen.add(p.name);
    }
  });

const CollectorEnv = CommonEnv.extend({
  COLLECTOR_PORT: port(8081),
  HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,128}$/)
    .default(defaultHostId),
  SYSTEM_INTERVAL_MS: int(5000, 250, 3_600_000),
  DISK_MOUNTS: list.transform((l) => (l.length > 0 ? l : ['/'])),
  INGEST_TOKENS: list,
  INGEST_MAX_BATCH: int(10_000, 1, 1_000_000),
  INGEST_MAX_BYTES: int(5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  INGEST_ORDER_TOLERANCE_MS: int(0, 0, 86_400_000),
  INGEST_IDEMPOTENCY_TTL_S: int(86_400, 1, 30 * 86_400),
  INGEST_MAX_LAG: int(100_000, 0, 1_000_000_000),
  INGEST_LAG_CHECK_MS: int(1000, 0, 60_000),
  PROBES: ProbesJson,
  PROBE_PERCENTILE: num(100).pipe(z.number().gt(0).max(100)),
  CACHE_REDIS_URLS: list.pipe(z.array(z.url({ protocol: /^rediss?$/ }))),
});

export interface CollectorConfig extends CommonConfig {
  port: number;
  hostId: string;
  systemIntervalMs: number;
  diskMounts: string[];
  ingestTokens: string[];
  ingestMaxBatch: number;
  ingestMaxBytes: number;
  /** Samples up to this many ms older than their strategy's latest are still written; older: skipped. */
  ingestOrderToleranceMs: number;
  ingestIdempotencyTtlSeconds: number;
  /** Scorer group lag (entries) above which ingest answers 429; 0: never. */
  ingestMaxLag: number;
  /** How long one lag reading is reused. */
  ingestLagCheckMs: number;
  probes: ProbeSpec[];
  /** `apiResponseTime` is this percentile of the probes' latest times (100: the worst). */
  probePercentile: number;
  /** Other Redis instances whose cache hit rate is reported. */
  cacheRedisUrls: string[];
}

export function loadCollectorConfig(env: Env): CollectorConfig {
  const e = parseEnv(CollectorEnv, env);
  return {
    ...common(e, 'collector'),
    port: e.COLLECTOR_PORT,
    hostId: e.HOST_ID,
    systemIntervalMs: e.SYSTEM_INTERVAL_MS,
    diskMounts: e.DISK_MOUNTS,
    ingestTokens: e.INGEST_TOKENS,
    ingestMaxBatch: e.INGEST_MAX_BATCH,
    ingestMaxBytes: e.INGEST_MAX_BYTES,
    ingestOrderToleranceMs: e.INGEST_ORDER_TOLERANCE_MS,
    ingestIdempotencyTtlSeconds: e.INGEST_IDEMPOTENCY_TTL_S,
    ingestMaxLag: e.INGEST_MAX_LAG,
    ingestLagCheckMs: e.INGEST_LAG_CHECK_MS,
    probes: e.PROBES,
    probePercentile: e.PROBE_PERCENTILE,
    cacheRedisUrls: e.CACHE_REDIS_URLS,
  };
}

const ScorerEnv = CommonEnv.extend({
  SCORER_PORT: port(8082),
  /** Partition lease TTL: partitions of a dead scorer move within about this long. */
  LEASE_TTL_MS: int(5000, 500, 300_000),
  SCORER_WINDOW: int(1000, 2, 1_000_000),
  PERIODS_PER_YEAR: num(252).pipe(z.number().positive()),
  RISK_FREE: num(0),
  REQUIRED_RETURN: num(0),
  VAR_CUTOFF: num(0.05).pipe(z.number().gt(0).lt(1)),
});

export interface ScorerConfig extends CommonConfig {
  port: number;
  leaseTtlMs: number;
  window: number;
  periodsPerYear: number;
  riskFree: number;
  requiredReturn: number;
  varCutoff: number;
}

export function loadScorerConfig(env: Env): ScorerConfig {
  const e = parseEnv(ScorerEnv, env);
  return {
    ...common(e, 'scorer'),
    port: e.SCORER_PORT,
    leaseTtlMs: e.LEASE_TTL_MS,
    window: e.SCORER_WINDOW,
    periodsPerYear: e.PERIODS_PER_YEAR,
    riskFree: e.RISK_FREE,
    requiredReturn: e.REQUIRED_RETURN,
    varCutoff: e.VAR_CUTOFF,
  };
}

const AlerterEnv = CommonEnv.extend({
  ALERTER_PORT: port(8083),
  /** Kept from the one-lane alerter: an alias of REPLICA_ID for the alerter. */
  ALERTER_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  /** Partition lease TTL: partitions of a dead replica move within about this long. */
  LEASE_TTL_MS: int(5000, 500, 300_000),
  ALERTER_MIN_OBSERVATIONS: int(20, 1, 1_000_000),
  /** YAML or JSON rules file overriding and extending the default rules (docs/alerts.md). */
  RULES_FILE: z.string().min(1).optional(),
  /** Reload the rules file when it changes (SIGHUP always reloads). */
  RULES_WATCH: z.stringbool().default(true),
  /** A subject silent this long raises a no_data alert; 0 turns it off (the rules file may override). */
  ALERTER_NO_DATA_MS: int(300_000, 0, 30 * 24 * 3_600_000),
  /** Period of the timer that checks no-data, repeats, silence expiry and the outbox. */
  ALERTER_TICK_MS: int(1000, 50, 60_000),
  /** Partition lease TTL (alias of LEASE_TTL_MS for the alerter, kept from the one-lane leader lock). */
  ALERTER_LEADER_TTL_MS: int(5000, 500, 300_000).optional(),
  /** Entries pending this long on a dead consumer are claimed by the leader. */
  ALERTER_CLAIM_IDLE_MS: int(10_000, 500, 3_600_000),
  /** Webhook receivers for firing / resolved / repeat notifications (comma-separated). */
  WEBHOOK_URLS: list.pipe(z.array(z.url({ protocol: /^https?$/ }))),
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** HMAC-SHA256 key for the X-Quantmon-Signature header; unsigned when unset. */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_FORMAT: z.enum(['json', 'slack']).default('json'),
  WEBHOOK_TIMEOUT_MS: int(5000, 100, 120_000),
  WEBHOOK_ATTEMPTS: int(5, 1, 100),
  WEBHOOK_BACKOFF_MS: int(1000, 10, 3_600_000),
  /** Prometheus Alertmanagers (comma-separated base URLs): firing incidents are posted to `<url>/api/v2/alerts`. */
  ALERTMANAGER_URLS: list.pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /** Firing alerts are re-sent this often (Prometheus's resend delay); they expire after 4 of these unless re-sent. */
  ALERTMANAGER_RESEND_MS: int(60_000, 100, 3_600_000),
  ALERTMANAGER_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** The dashboard's URL, linked from each alert's `dashboard` annotation and generatorURL. */
  DASHBOARD_URL: z.url({ protocol: /^https?$/ }).optional(),
});

export interface WebhookConfig {
  urls: string[];
  secret: string | undefined;
  format: 'json' | 'slack';
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
}

export interface AlertmanagerConfig {
  /** Base URLs, without `/api/v2/alerts`; empty: off. */
  urls: string[];
  resendMs: number;
  timeoutMs: number;
  dashboardUrl: string | undefined;
}

export interface AlerterConfig extends CommonConfig {
  port: number;
  consumer: string;
  /** Strategy rules on statistics wait for this many observations (a Sharpe of 2 samples is noise). */
  minObservations: number;
  rulesFile: string | undefined;
  rulesWatch: boolean;
  noDataMs: number;
  tickMs: number;
  leaderTtlMs: number;
  claimIdleMs: number;
  webhook: WebhookConfig;
  alertmanager: AlertmanagerConfig;
}

export function loadAlerterConfig(env: Env): AlerterConfig {
  const e = parseEnv(AlerterEnv, env);
  const base = common(e, 'alerter');
  return {
    ...base,
    port: e.ALERTER_PORT,
    consumer: e.ALERTER_CONSUMER ?? base.replicaId,
    minObservations: e.ALERTER_MIN_OBSERVATIONS,
    rulesFile: e.RULES_FILE,
    rulesWatch: e.RULES_WATCH,
    noDataMs: e.ALERTER_NO_DATA_MS,
    tickMs: e.ALERTER_TICK_MS,
    leaderTtlMs: e.ALERTER_LEADER_TTL_MS ?? e.LEASE_TTL_MS,
    claimIdleMs: e.ALERTER_CLAIM_IDLE_MS,
    webhook: {
      urls: [...new Set([...(e.WEBHOOK_URL ? [e.WEBHOOK_URL] : []), ...e.WEBHOOK_URLS])],
      secret: e.WEBHOOK_SECRET,
      format: e.WEBHOOK_FORMAT,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      attempts: e.WEBHOOK_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
    },
    alertmanager: {
      urls: [...new Set(e.ALERTMANAGER_URLS.map((u) => u.replace(/\/+$/, '')))],
      resendMs: e.ALERTMANAGER_RESEND_MS,
      timeoutMs: e.ALERTMANAGER_TIMEOUT_MS,
      dashboardUrl: e.DASHBOARD_URL,
    },
  };
}

const GatewayEnv = CommonEnv.extend({
  GATEWAY_PORT: port(8080),
  /** Shown in the hello frame and logs; default the replica id. */
  GATEWAY_ID: z.string().min(1).optional(),
  GATEWAY_TOKENS: list,
  GATEWAY_ALLOWED_ORIGINS: list,
  GATEWAY_MAX_MESSAGE_BYTES: int(16 * 1024, 256, 16 * 1024 * 1024),
  GATEWAY_MAX_BACKLOG_BYTES: int(4 * 1024 * 1024, 4 * 1024, 1024 * 1024 * 1024),
  GATEWAY_WRITE_HIGH_WATER_BYTES: int(64 * 1024, 0, 64 * 1024 * 1024),
  GATEWAY_HEARTBEAT_MS: int(25_000, 50, 3_600_000),
  GATEWAY_CLIENT_RATE: num(10).pipe(z.number().positive()),
  GATEWAY_CLIENT_BURST: int(20, 1, 100_000),
  GATEWAY_REPLAY_MAX: int(10_000, 1, 10_000_000),
  GATEWAY_HISTORY_MAX_SCAN: int(100_000, 100, 10_000_000),
});

export interface GatewayConfig extends CommonConfig {
  port: number;
  gatewayId: string;
  /** Accepted tokens (`?token=` or `Authorization: Bearer`); empty: no auth. */
  tokens: string[];
  /** Allowed WebSocket Origins; empty: same origin (or no Origin header) only; `*`: any. */
  allowedOrigins: string[];
  /** Largest client message, bytes (larger: close 1009). */
  maxMessageBytes: number;
  /** Unsent bytes per connection before it is closed as a slow consumer (4008). */
  maxBacklogBytes: number;
  /** Socket buffer above which frames wait in the outbox (where metrics conflate). */
  writeHighWaterBytes: number;
  heartbeatMs: number;
  /** Client messages per second (token bucket) and the burst allowed. */
  clientRate: number;
  clientBurst: number;
  /** Most entries read per stream to resume one subscription; beyond: reset + snapshot. */
  replayMax: number;
  /** Most stream entries `GET /api/history` scans per request. */
  historyMaxScan: number;
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const e = parseEnv(GatewayEnv, env);
  const base = common(e, 'gateway');
  return {
    ...base,
    port: e.GATEWAY_PORT,
    gatewayId: e.GATEWAY_ID ?? base.replicaId,
    tokens: e.GATEWAY_TOKENS,
    allowedOrigins: e.GATEWAY_ALLOWED_ORIGINS,
    maxMessageBytes: e.GATEWAY_MAX_MESSAGE_BYTES,
    maxBacklogBytes: e.GATEWAY_MAX_BACKLOG_BYTES,
    writeHighWaterBytes: e.GATEWAY_WRITE_HIGH_WATER_BYTES,
    heartbeatMs: e.GATEWAY_HEARTBEAT_MS,
    clientRate: e.GATEWAY_CLIENT_RATE,
    clientBurst: e.GATEWAY_CLIENT_BURST,
    replayMax: e.GATEWAY_REPLAY_MAX,
    historyMaxScan: e.GATEWAY_HISTORY_MAX_SCAN,
  };
}

/**
 * Load a config or exit: main.ts calls this so a bad value stops the process
 * with one readable message instead of a stack trace.
 */
export function loadOrExit<C>(service: string, load: (env: Env) => C, env: Env = process.env): C {
  try {
    return load(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${service}: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
}
