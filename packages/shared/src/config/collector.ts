import { z } from 'zod';
import { STREAM_MAXLEN } from '../keys.js';
import {
  CommonEnv,
  common,
  defaultHostId,
  int,
  list,
  num,
  parseEnv,
  port,
  type CommonConfig,
  type Env,
} from './env.js';

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
  INGEST_MAX_FUTURE_MS: int(0, 0, 10 * 365 * 86_400_000),
  INGEST_IDEMPOTENCY_TTL_S: int(86_400, 1, 30 * 86_400),
  INGEST_MAX_LAG: int(100_000, 0, 1_000_000_000),
  INGEST_LAG_CHECK_MS: int(1000, 0, 60_000),
  INGEST_FAST_PATH: z.stringbool().default(true),
  PROBES: ProbesJson,
  PROBE_PERCENTILE: num(100).pipe(z.number().gt(0).max(100)),
  CACHE_REDIS_URLS: list.pipe(z.array(z.url({ protocol: /^rediss?$/ }))),
  STREAM_MAXLEN_SAMPLES: int(STREAM_MAXLEN.strategySamples, 1000, 1_000_000_000),
}).superRefine((e, ctx) => {
  // The cap trims oldest first, read or not: it must stay above any backlog ingest lets build
  // (INGEST_MAX_LAG is summed over partitions, so one partition's backlog is at most that).
  if (e.INGEST_MAX_LAG > 0 && e.STREAM_MAXLEN_SAMPLES < 2 * e.INGEST_MAX_LAG) {
    ctx.addIssue({
      code: 'custom',
      path: ['STREAM_MAXLEN_SAMPLES'],
      message: `must be at least twice INGEST_MAX_LAG (${e.INGEST_MAX_LAG}), or a backlog could be trimmed before the scorer reads it`,
    });
  }
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
  /**
   * A sample whose ts is more than this ahead of the collector's clock is
   * refused (400); 0: no limit (a replay or simulation may run ahead).
   */
  ingestMaxFutureMs: number;
  ingestIdempotencyTtlSeconds: number;
  /** Scorer group lag (entries) above which ingest answers 429; 0: never. */
  ingestMaxLag: number;
  /** How long one lag reading is reused. */
  ingestLagCheckMs: number;
  /**
   * Plain `POST /v1/samples` requests are read and answered beside Node's
   * HTTP server (fast-http.ts); false: every request goes through Node's.
   */
  ingestFastPath: boolean;
  probes: ProbeSpec[];
  /** `apiResponseTime` is this percentile of the probes' latest times (100: the worst). */
  probePercentile: number;
  /** Other Redis instances whose cache hit rate is reported. */
  cacheRedisUrls: string[];
  /** STREAM_MAXLEN_SAMPLES: the hard cap of each partition's samples stream (entries, approximate). */
  streamMaxLenSamples: number;
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
    ingestMaxFutureMs: e.INGEST_MAX_FUTURE_MS,
    ingestIdempotencyTtlSeconds: e.INGEST_IDEMPOTENCY_TTL_S,
    ingestMaxLag: e.INGEST_MAX_LAG,
    ingestLagCheckMs: e.INGEST_LAG_CHECK_MS,
    ingestFastPath: e.INGEST_FAST_PATH,
    probes: e.PROBES,
    probePercentile: e.PROBE_PERCENTILE,
    cacheRedisUrls: e.CACHE_REDIS_URLS,
    streamMaxLenSamples: e.STREAM_MAXLEN_SAMPLES,
  };
}
