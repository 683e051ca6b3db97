import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import type { RawEntry } from './stream-codec.js';
import { abortableSleep } from './sleep.js';

export interface FollowOptions {
  /** A connection of its own: XREAD BLOCK holds it. */
  redis: Redis;
  /** stream -> the id to read after ('$' for new entries only). */
  from: Record<string, string>;
  onEntries: (stream: string, entries: RawEntry[]) => void | Promise<void>;
  signal: AbortSignal;
  log: Logger;
  count?: number;
  blockMs?: number;
  onLoopError?: (err: unknown) => void;
}

/**
 * Fan-out read with plain XREAD (no group): every reader sees every entry.
 * The offset advances per entry, so a Redis outage resumes where it stopped.
 * '$' is resolved to a concrete id at start so nothing written between two
 * reads is skipped.
 */
export async function followStreams(opts: FollowOptions): Promise<void> {
  const { redis, log, signal } = opts;
  const streams = Object.keys(opts.from);
  const ids = new Map<string, string>();
  let backoff = 0;
  while (!signal.aborted) {
    try {
      for (const s of streams) {
        if (!ids.has(s)) ids.set(s, await resolveStart(redis, s, opts.from[s] ?? '$'));
      }
      const reply = (await redis.xread(
        'COUNT',
        opts.count ?? 1000,
        'BLOCK',
        opts.blockMs ?? 1000,
        'STREAMS',
        ...streams,
        ...streams.map((s) => ids.get(s) ?? '0-0'),
      )) as [string, RawEntry[]][] | null;
      for (const [stream, entries] of reply ?? []) {
        const last = entries[entries.length - 1];
        if (!last) continue;
        ids.set(stream, last[0]);
        await opts.onEntries(stream, entries);
      }
      backoff = 0;
    } catch (err) {
      if (signal.aborted) break;
      backoff = Math.min(5000, backoff ? backoff * 2 : 100);
      log.warn(
        { err: (err as Error).message, backoffMs: backoff },
        'stream follower error, retrying',
      );
      opts.onLoopError?.(err);
      await abortableSleep(backoff, signal);
    }
  }
}

/** The id of the newest entry ('0-0' for an empty stream) when asked for '$'. */
export async function resolveStart(redis: Redis, stream: string, from: string): Promise<string> {
  if (from !== '$') return from;
  const last = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as RawEntry[];
  return last[0]?.[0] ?? '0-0';
}
