import { allPartitions, GROUPS, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { readEach } from './read-each.js';
import { isNoSuchKey, parseGroups } from './xinfo.js';

export interface LagReading {
  /** Entries the scorer's group has not read yet, over all partitions; undefined when unknown. */
  lag: number | undefined;
  /** The group's cumulative `entries-read` summed over partitions, for the drain rate. */
  entriesRead: number | undefined;
}

export interface Backpressure {
  lag: number;
  retryAfterSeconds: number;
}

/** Seconds to suggest when the drain rate is unknown (scorer stalled or first reading). */
const DEFAULT_RETRY_AFTER_S = 5;
const MAX_RETRY_AFTER_S = 60;

/**
 * Seconds until the backlog is back under the limit at the observed drain
 * rate, between 1 and 60; the default when the rate is unknown or zero.
 */
export function retryAfterSeconds(
  lag: number,
  maxLag: number,
  drainPerSec: number | undefined,
): number {
  if (drainPerSec === undefined || !(drainPerSec > 0)) return DEFAULT_RETRY_AFTER_S;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((lag - maxLag) / drainPerSec)));
}

/**
 * Decides 429 for ingest from the scorer group's lag summed over the
 * partitions' strategy-samples streams. One reading serves every request
 * for `cacheMs` (and concurrent requests share one in-flight reading; after
 * the first, requests use the last reading while the next is taken), so
 * the check costs one XINFO per partition per interval however busy ingest
 * is. When the lag cannot be read (Redis
 * down, no group yet) it never blocks: the write itself answers 503 if
 * Redis is down, and with no scorer group there is no consumer to be behind.
 */
export class LagGate {
  private cached: { at: number; reading: LagReading | undefined } | undefined;
  private inflight: Promise<LagReading | undefined> | undefined;
  private prev: { at: number; entriesRead: number } | undefined;
  private drainPerSec: number | undefined;

  constructor(
    private readonly opts: {
      maxLag: number;
      cacheMs: number;
      read: () => Promise<LagReading>;
      now?: () => number;
    },
  ) {}

  /**
   * 429 or not for one request. Synchronous while a reading is cached (every
   * request but the first of each period): a promise per request was most of
   * what a single-sample POST allocated here.
   */
  check(): Backpressure | undefined | Promise<Backpressure | undefined> {
    if (this.opts.maxLag <= 0) return undefined;
    const reading = this.reading();
    return reading instanceof Promise ? reading.then((r) => this.judge(r)) : this.judge(reading);
  }

  private judge(reading: LagReading | undefined): Backpressure | undefined {
    const lag = reading?.lag;
    if (lag === undefined || lag <= this.opts.maxLag) return undefined;
    return { lag, retryAfterSeconds: retryAfterSeconds(lag, this.opts.maxLag, this.drainPerSec) };
  }

  private reading(): LagReading | undefined | Promise<LagReading | undefined> {
    const now = (this.opts.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.opts.cacheMs) return this.cached.reading;
    this.inflight ??= this.refresh(now).finally(() => (this.inflight = undefined));
    // Stale while revalidating: once there is a reading, no request waits for
    // the next one (those round trips would sit in every request's latency
    // once per cache period); the gate is late by at most one refresh.
    // cacheMs 0 asks for a fresh reading on every request: no stale answer.
    return this.cached && this.opts.cacheMs > 0 ? this.cached.reading : this.inflight;
  }

  private async refresh(now: number): Promise<LagReading | undefined> {
    let reading: LagReading | undefined;
    try {
      reading = await this.opts.read();
    } catch {
      reading = undefined;
    }
    const read = reading?.entriesRead;
    if (read !== undefined) {
      if (this.prev && now > this.prev.at && read >= this.prev.entriesRead) {
        this.drainPerSec = ((read - this.prev.entriesRead) * 1000) / (now - this.prev.at);
      }
      this.prev = { at: now, entriesRead: read };
    }
    this.cached = { at: now, reading };
    return reading;
  }
}

/**
 * The scorer group's lag summed over every partition's strategy-samples
 * stream: one XINFO GROUPS per partition (Redis >= 7), pipelined on a
 * single Redis, sent separately on a Cluster (readEach). Where Redis cannot
 * tell a partition's lag (entries deleted inside the unread range) the
 * group's pending count stands in: a lower bound of that backlog. A
 * partition whose stream does not exist yet is 0 behind; one without the
 * scorer's group (no scorer has owned it yet) adds nothing: there is no
 * consumer to be behind. `lag` is undefined only when no partition has the
 * group. `entriesRead` is the sum over the partitions that report it.
 */
export async function readScorerLag(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<LagReading> {
  const replies = await readEach(
    redis,
    allPartitions(partitions).map((p) => ['XINFO', 'GROUPS', keys.partition(p).strategySamples]),
  );
  let lag: number | undefined;
  let entriesRead: number | undefined;
  for (const reply of replies) {
    if (!reply.ok) {
      if (isNoSuchKey(reply.error)) {
        lag ??= 0;
        continue;
      }
      throw reply.error; // unknown backlog: the gate lets ingest through
    }
    const group = parseGroups(reply.value).find((g) => g.name === GROUPS.scorer);
    if (!group) continue;
    const behind = group.lag ?? group.pending;
    if (behind !== undefined) lag = (lag ?? 0) + behind;
    if (group.entriesRead !== undefined) entriesRead = (entriesRead ?? 0) + group.entriesRead;
  }
  return { lag, entriesRead };
}
