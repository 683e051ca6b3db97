import { GROUPS, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';

export interface LagReading {
  /** Entries of the stream the scorer's group has not read yet; undefined when unknown. */
  lag: number | undefined;
  /** The group's cumulative `entries-read`, for the drain rate. */
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
 * Decides 429 for ingest from the scorer group's lag on the strategy-samples
 * stream. One reading serves every request for `cacheMs` (and concurrent
 * requests share one in-flight reading), so the check costs one XINFO per
 * interval however busy ingest is. When the lag cannot be read (Redis
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

  async check(): Promise<Backpressure | undefined> {
    if (this.opts.maxLag <= 0) return undefined;
    const reading = await this.reading();
    const lag = reading?.lag;
    if (lag === undefined || lag <= this.opts.maxLag) return undefined;
    return { lag, retryAfterSeconds: retryAfterSeconds(lag, this.opts.maxLag, this.drainPerSec) };
  }

  private async reading(): Promise<LagReading | undefined> {
    const now = (this.opts.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.opts.cacheMs) return this.cached.reading;
    this.inflight ??= this.refresh(now).finally(() => (this.inflight = undefined));
    return this.inflight;
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
 * The scorer group's lag from XINFO GROUPS (Redis >= 7). Where Redis
 * cannot tell the lag (entries deleted inside the unread range) the
 * group's pending count stands in: a lower bound of the backlog.
 */
export async function readScorerLag(redis: Redis, keys: Keys): Promise<LagReading> {
  let groups: unknown;
  try {
    groups = await redis.xinfo('GROUPS', keys.strategySamples);
  } catch (err) {
    if ((err as Error).message.includes('no such key')) return { lag: 0, entriesRead: undefined };
    throw err;
  }
  if (!Array.isArray(groups)) return { lag: undefined, entriesRead: undefined };
  for (const g of groups) {
    if (!Array.isArray(g)) continue;
    const get = (name: string): unknown => {
      const i = g.indexOf(name);
      return i >= 0 && i % 2 === 0 ? g[i + 1] : undefined;
    };
    if (get('name') !== GROUPS.scorer) continue;
    const lag = get('lag');
    const pending = get('pending');
    const read = get('entries-read');
    return {
      lag: typeof lag === 'number' ? lag : typeof pending === 'number' ? pending : undefined,
      entriesRead: typeof read === 'number' ? read : undefined,
    };
  }
  return { lag: undefined, entriesRead: undefined };
}
