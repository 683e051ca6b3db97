import { z } from 'zod';
import { EpochMs, FiniteNumber, HostId } from './common.js';

const Percent = FiniteNumber.pipe(z.number().min(0).max(100));

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
  /** Seconds; worst over the configured HTTP probes. */
  apiResponseTime: FiniteNumber.optional(),
  /** Percent of failed probes and pipeline errors over the last minute. */
  errorRate: Percent.optional(),
  /** Percent, Redis keyspace hits / (hits + misses). */
  cacheHitRate: Percent.optional(),
  /** Seconds from a sample's arrival to its score update, p50 and p99. */
  processingTimeP50: FiniteNumber.optional(),
  processingTimeP99: FiniteNumber.optional(),
});
export type SystemSample = z.infer<typeof SystemSample>;
