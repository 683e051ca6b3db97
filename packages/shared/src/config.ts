import { hostname } from 'node:os';
import { z } from 'zod';

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
  QUANTMON_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('quantmon'),
  BULLMQ_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('bull'),
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
  prefix: string;
  bullPrefix: string;
  logLevel: z.infer<typeof LogLevel>;
  listenHost: string;
  shutdownTimeoutMs: number;
}

function common(e: z.infer<typeof CommonEnv>): CommonConfig {
  return {
    redisUrl: e.REDIS_URL,
    prefix: e.QUANTMON_PREFIX,
    bullPrefix: e.BULLMQ_PREFIX,
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
});

export interface CollectorConfig extends CommonConfig {
  port: number;
  hostId: string;
  systemIntervalMs: number;
  diskMounts: string[];
  ingestTokens: string[];
  ingestMaxBatch: number;
  ingestMaxBytes: number;
}

export function loadCollectorConfig(env: Env): CollectorConfig {
  const e = parseEnv(CollectorEnv, env);
  return {
    ...common(e),
    port: e.COLLECTOR_PORT,
    hostId: e.HOST_ID,
    systemIntervalMs: e.SYSTEM_INTERVAL_MS,
    diskMounts: e.DISK_MOUNTS,
    ingestTokens: e.INGEST_TOKENS,
    ingestMaxBatch: e.INGEST_MAX_BATCH,
    ingestMaxBytes: e.INGEST_MAX_BYTES,
  };
}

const ScorerEnv = CommonEnv.extend({
  SCORER_PORT: port(8082),
  SCORER_WINDOW: int(1000, 2, 1_000_000),
  PERIODS_PER_YEAR: num(252).pipe(z.number().positive()),
  RISK_FREE: num(0),
  REQUIRED_RETURN: num(0),
  VAR_CUTOFF: num(0.05).pipe(z.number().gt(0).lt(1)),
});

export interface ScorerConfig extends CommonConfig {
  port: number;
  window: number;
  periodsPerYear: number;
  riskFree: number;
  requiredReturn: number;
  varCutoff: number;
}

export function loadScorerConfig(env: Env): ScorerConfig {
  const e = parseEnv(ScorerEnv, env);
  return {
    ...common(e),
    port: e.SCORER_PORT,
    window: e.SCORER_WINDOW,
    periodsPerYear: e.PERIODS_PER_YEAR,
    riskFree: e.RISK_FREE,
    requiredReturn: e.REQUIRED_RETURN,
    varCutoff: e.VAR_CUTOFF,
  };
}

const AlerterEnv = CommonEnv.extend({
  ALERTER_PORT: port(8083),
  ALERTER_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('alerter-1'),
  ALERTER_MIN_OBSERVATIONS: int(20, 1, 1_000_000),
});

export interface AlerterConfig extends CommonConfig {
  port: number;
  consumer: string;
  /** Strategy rules on statistics wait for this many observations (a Sharpe of 2 samples is noise). */
  minObservations: number;
}

export function loadAlerterConfig(env: Env): AlerterConfig {
  const e = parseEnv(AlerterEnv, env);
  return {
    ...common(e),
    port: e.ALERTER_PORT,
    consumer: e.ALERTER_CONSUMER,
    minObservations: e.ALERTER_MIN_OBSERVATIONS,
  };
}

const GatewayEnv = CommonEnv.extend({
  GATEWAY_PORT: port(8080),
  GATEWAY_ID: z.string().min(1).default(`gateway-${process.pid}`),
});

export interface GatewayConfig extends CommonConfig {
  port: number;
  gatewayId: string;
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const e = parseEnv(GatewayEnv, env);
  return { ...common(e), port: e.GATEWAY_PORT, gatewayId: e.GATEWAY_ID };
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
