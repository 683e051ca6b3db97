import {
  emergencyFailedKey,
  readPipelineErrors,
  type Keys,
  type RawEntry,
  type SystemSample,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { errorRatePercent, SlidingCounter } from './error-rate.js';
import { p50p99, processingSeconds } from './processing-time.js';

export interface PipelineReading {
  /** Pipeline errors over the window: reported errors plus newly failed emergency jobs. */
  errors: number;
  /** Operations over the window: entries added to the sample streams plus entries read by groups. */
  operations: number;
  processingTimeP50?: number;
  processingTimeP99?: number;
}

/**
 * A sample's error-rate fields from the probe runs and the pipeline reading
 * of the same window: the rate, and the count it is a percentage of, so an
 * alert rule can ignore a rate drawn from a handful of operations (one failed
 * probe call of two, before the probed service listened, is 50 %). Empty
 * when nothing happened in the window.
 */
export function errorRateFields(
  probes: { runs: number; failures: number },
  pipeline: Pick<PipelineReading, 'errors' | 'operations'>,
): Pick<SystemSample, 'errorRate' | 'errorRateOperations'> {
  const errors = probes.failures + pipeline.errors;
  const operations = probes.runs + pipeline.operations;
  const errorRate = errorRatePercent(errors, operations);
  if (errorRate === undefined) return {};
  return { errorRate, errorRateOperations: Math.max(errors, operations) };
}

/** Field of a flat [k, v, k, v] reply as a number (XINFO replies). */
function field(flat: unknown, name: string): number | undefined {
  if (!Array.isArray(flat)) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === name) {
      const v: unknown = flat[i + 1];
      return typeof v === 'number' ? v : undefined;
    }
  }
  return undefined;
}

/**
 * Reads the pipeline's own health from Redis in one round trip per
 * interval: the error buckets of the last minute (MGET), the streams'
 * `entries-added` and the groups' `entries-read` (XINFO, Redis >= 7) for
 * the operation count, the emergency queue's failed-job count, and the
 * score updates written since the last reading (XREVRANGE, at most
 * `maxScores`, newest first) for processing time.
 */
export class PipelineStats {
  /** One counter per stream (entries-added) and per stream/group (entries-read). */
  private readonly ops = new Map<string, SlidingCounter>();
  private readonly failedJobs: SlidingCounter;
  private lastScoreId: string | undefined;
  private started = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly bullPrefix: string,
    private readonly windowMs = 60_000,
    private readonly maxScores = 1000,
  ) {
    this.failedJobs = new SlidingCounter(windowMs);
  }

  async read(now: number, sinceMs: number): Promise<PipelineReading> {
    const { keys } = this;
    const start = this.lastScoreId ? `(${this.lastScoreId}` : `${Math.max(0, sinceMs)}-0`;
    const p = this.redis.pipeline();
    p.xinfo('STREAM', keys.strategySamples);
    p.xinfo('STREAM', keys.systemSamples);
    p.xinfo('GROUPS', keys.strategySamples);
    p.xinfo('GROUPS', keys.scores);
    p.xinfo('GROUPS', keys.systemSamples);
    p.zcard(emergencyFailedKey(this.bullPrefix));
    p.xrevrange(keys.scores, '+', start, 'COUNT', this.maxScores);
    const [errors, replies] = await Promise.all([
      readPipelineErrors(this.redis, keys, now, Math.round(this.windowMs / 1000)),
      p.exec(),
    ]);
    const value = (i: number): unknown => {
      const r = replies?.[i];
      return r && !r[0] ? r[1] : undefined; // a missing stream answers an error: nothing counted
    };
    const streams = [keys.strategySamples, keys.systemSamples, keys.scores];
    for (const i of [0, 1])
      this.observeOp(now, `added:${streams[i]}`, field(value(i), 'entries-added'));
    for (const i of [2, 3, 4]) {
      const groups = value(i);
      if (!Array.isArray(groups)) continue;
      for (const g of groups) {
        const name = Array.isArray(g) ? String(g[g.indexOf('name') + 1]) : '?';
        this.observeOp(now, `read:${streams[i - 2]}:${name}`, field(g, 'entries-read'));
      }
    }
    const failed = value(5);
    this.failedJobs.observe(now, typeof failed === 'number' ? failed : undefined);
    const scores = (value(6) as RawEntry[] | undefined) ?? [];
    if (scores[0]) this.lastScoreId = scores[0][0];
    const reading: PipelineReading = {
      errors: errors + this.failedJobs.sum(now),
      operations: [...this.ops.values()].reduce((a, c) => a + c.sum(now), 0),
    };
    const pt = p50p99(processingSeconds(scores));
    this.started = true;
    if (pt) {
      reading.processingTimeP50 = pt.p50;
      reading.processingTimeP99 = pt.p99;
    }
    return reading;
  }

  private observeOp(now: number, name: string, cumulative: number | undefined): void {
    if (cumulative === undefined) return;
    let c = this.ops.get(name);
    if (!c) {
      c = new SlidingCounter(this.windowMs);
      this.ops.set(name, c);
      // A stream or group that appears after start-up: count from zero, so
      // entries it received before the first reading are counted once.
      if (this.started) c.observe(now, 0);
    }
    c.observe(now, cumulative);
  }
}
