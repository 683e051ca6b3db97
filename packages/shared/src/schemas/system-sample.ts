import { z } from 'zod';
import { EpochMs, FiniteNumber, HostId } from './common.js';

const Percent = FiniteNumber.pipe(z.number().min(0).max(100));

/** The latest result of one configured HTTP probe. */
export const ProbeResult = z.strictObject({
  name: z.string().min(1).max(64),
  /** The status was one of the expected ones, within the timeout. */
  ok: z.boolean(),
  /** Seconds to the response headers (or to the failure). */
  seconds: FiniteNumber.pipe(z.number().nonnegative()),
  /** HTTP status; absent when no response came (timeout, refused). */
  status: z.number().int().min(100).max(599).optional(),
  /** When the probe ran, epoch ms. */
  ts: EpochMs,
});
export type ProbeResult = z.infer<typeof ProbeResult>;

/** Hit rate of one Redis instance over the last interval. */
export const CacheResult = z.strictObject({
  /** `pipeline` for quantmon's own Redis; host:port/db (no credentials) for the listed ones. */
  name: z.string().min(1).max(256),
  /** Percent; absent when the instance answered no lookups in the interval or was unreachable. */
  hitRate: Percent.optional(),
});
export type CacheResult = z.infer<typeof CacheResult>;

/**
 * One host's measurements at one instant. A field is absent when it was not
 * measured (never filled with a guess); the dashboard shows it as such.
 */
export const SystemSample = z.strictObject({
  host: HostId,
  ts: EpochMs,
  /** CPU busy, percent of all cores. */
  cpu: Percent.optional(),
  /** Memory in use (excluding caches), percent. */
  memory: Percent.optional(),
  /** Highest use among the watched mount points, percent. */
  disk: Percent.optional(),
  /** Network bytes per second over all interfaces. */
  netInBytesPerSec: FiniteNumber.optional(),
  netOutBytesPerSec: FiniteNumber.optional(),
  load1: FiniteNumber.optional(),
  /** Seconds; worst (or the configured percentile) over the configured HTTP probes' latest results. */
  apiResponseTime: FiniteNumber.optional(),
  /** Percent over the last minute: (failed probes + pipeline errors) / operations (see docs/collector.md). */
  errorRate: Percent.optional(),
  /**
   * What `errorRate` is a percentage of: the operations (or, when more, the
   * errors) counted in its window. Alert rules ignore a rate from too few
   * (`minVolume`). Absent whenever `errorRate` is, and from older collectors.
   */
  errorRateOperations: z.number().int().nonnegative().optional(),
  /** Percent, Redis keyspace hits / (hits + misses) over the interval, pooled over the watched instances. */
  cacheHitRate: Percent.optional(),
  /** Seconds from a sample's arrival to its score update, p50 and p99. */
  processingTimeP50: FiniteNumber.optional(),
  processingTimeP99: FiniteNumber.optional(),
  /**
   * Seconds since the most silent service (collector, scorer, alerter,
   * gateway) last sent a heartbeat; about 1 while all beat. Watched by the
   * `service_down` rule.
   */
  serviceSilence: FiniteNumber.pipe(z.number().nonnegative()).optional(),
  /** Seconds the lag of some consumer group on some partition has kept growing; 0 when none grows. */
  consumerLagGrowth: FiniteNumber.pipe(z.number().nonnegative()).optional(),
  /** Per probe, its latest result (`apiResponseTime` aggregates them). */
  probes: z.array(ProbeResult).optional(),
  /** Per Redis instance watched, its hit rate (`cacheHitRate` pools them). */
  caches: z.array(CacheResult).optional(),
});
export type SystemSample = z.infer<typeof SystemSample>;
