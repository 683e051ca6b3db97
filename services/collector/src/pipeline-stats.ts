import {
  allPartitions,
  emergencyFailedKey,
  parseHeartbeats,
  readPipelineErrors,
  serviceSilence,
  type Keys,
  type RawEntry,
  type SystemSample,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { errorRatePercent, SlidingCounter } from './error-rate.js';
import { LagGrowth } from './lag-growth.js';
import { p50p99, processingSeconds } from './processing-time.js';
import { readEach, type Command } from './read-each.js';
import { parseGroups, parseStreamInfo } from './xinfo.js';

export interface PipelineReading {
  /** Pipeline errors over the window: reported errors plus newly failed emergency jobs. */
  errors: number;
  /** Operations over the window: entries added to the sample streams plus entries read by groups. */
  operations: number;
  processingTimeP50?: number;
  processingTimeP99?: number;
  /** Seconds since the most silent service's last heartbeat (service-heartbeat.ts). */
  serviceSilence?: number;
  /** Seconds the lag of some consumer group on some partition has kept growing (lag-growth.ts). */
  consumerLagGrowth?: number;
}

/** HGETALL answers an object through ioredis's transformer, a flat array without it. */
function hashReply(reply: unknown): Record<string, string> {
  if (Array.isArray(reply)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
    return out;
  }
  return reply && typeof reply === 'object' ? (reply as Record<string, string>) : {};
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

/**
 * Reads the pipeline's own health from Redis once per interval: the error
 * buckets of the last minute, and per partition the sample streams'
 * `entries-added` and the groups' `entries-read` (XINFO, Redis >= 7) for
 * the operation count, the emergency queue's failed-job count, and the
 * score updates written since the last reading on every partition's scores
 * stream (XREVRANGE, newest first, at most `maxScores` in all) for
 * processing time. The commands go in one pipeline on a single Redis, each
 * on its own on a Cluster (readEach).
 */
export class PipelineStats {
  /** One counter per stream (entries-added) and per stream/group (entries-read). */
  private readonly ops = new Map<string, SlidingCounter>();
  private readonly failedJobs: SlidingCounter;
  /** Per partition, the newest score update already counted. */
  private readonly lastScoreIds = new Map<number, string>();
  private readonly lagGrowth = new LagGrowth();
  private started = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly partitions: number,
    private readonly bullPrefix: string,
    private readonly windowMs = 60_000,
    private readonly maxScores = 1000,
  ) {
    this.failedJobs = new SlidingCounter(windowMs);
  }

  async read(now: number, sinceMs: number): Promise<PipelineReading> {
    const perPartitionScores = Math.max(1, Math.ceil(this.maxScores / this.partitions));
    const commands: Command[] = [
      ['ZCARD', emergencyFailedKey(this.bullPrefix)],
      ['HGETALL', this.keys.heartbeats],
    ];
    const plan: { p: number; addedOf: string[]; groupsOf: string[] }[] = [];
    for (const p of allPartitions(this.partitions)) {
      const pk = this.keys.partition(p);
      const addedOf = [pk.strategySamples, pk.systemSamples];
      const groupsOf = [pk.strategySamples, pk.scores, pk.systemSamples];
      for (const key of addedOf) commands.push(['XINFO', 'STREAM', key]);
      for (const key of groupsOf) commands.push(['XINFO', 'GROUPS', key]);
      const last = this.lastScoreIds.get(p);
      const start = last ? `(${last}` : `${Math.max(0, sinceMs)}-0`;
      commands.push(['XREVRANGE', pk.scores, '+', start, 'COUNT', perPartitionScores]);
      plan.push({ p, addedOf, groupsOf });
    }
    const [errors, replies] = await Promise.all([
      readPipelineErrors(this.redis, this.keys, now, Math.round(this.windowMs / 1000)),
      readEach(this.redis, commands),
    ]);
    // A missing stream answers an error: nothing counted for it.
    const value = (i: number): unknown => {
      const r = replies[i];
      return r?.ok ? r.value : undefined;
    };
    const failed = value(0);
    this.failedJobs.observe(now, typeof failed === 'number' ? failed : undefined);
    const beats = value(1);
    const silence = serviceSilence(parseHeartbeats(hashReply(beats)), now);
    const groupsSeen = new Set<string>();
    const scores: RawEntry[] = [];
    let i = 2;
    for (const { p, addedOf, groupsOf } of plan) {
      for (const key of addedOf) {
        this.observeOp(now, `added:${key}`, parseStreamInfo(value(i++)).entriesAdded);
      }
      for (const key of groupsOf) {
        for (const g of parseGroups(value(i++))) {
          this.observeOp(now, `read:${key}:${g.name}`, g.entriesRead);
          const lag = g.lag ?? g.pending;
          if (lag !== undefined) {
            groupsSeen.add(`${key}:${g.name}`);
            this.lagGrowth.observe(`${key}:${g.name}`, lag, now);
          }
        }
      }
      const newest = (value(i++) as RawEntry[] | undefined) ?? [];
      if (newest[0]) this.lastScoreIds.set(p, newest[0][0]);
      for (const e of newest) scores.push(e);
    }
    this.lagGrowth.keepOnly(groupsSeen);
    const reading: PipelineReading = {
      errors: errors + this.failedJobs.sum(now),
      operations: [...this.ops.values()].reduce((a, c) => a + c.sum(now), 0),
      consumerLagGrowth: this.lagGrowth.longestSeconds(now),
    };
    if (silence.size > 0) reading.serviceSilence = Math.max(...silence.values());
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
