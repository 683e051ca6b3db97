import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from './logger.js';
import { deadLetter, decodeEntry, type RawEntry } from './stream-codec.js';
import { abortableSleep } from './sleep.js';

export interface Entry<T> {
  id: string;
  value: T;
}

export interface GroupConsumerOptions<T> {
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  redis: Redis;
  stream: string;
  group: string;
  consumer: string;
  /** Where the group starts when it is first created: '0' (everything retained) or '$' (new only). */
  startId: '0' | '$';
  schema: z.ZodType<T>;
  deadLetterStream: string;
  /**
   * false: another group reads the same stream and dead-letters its
   * malformed entries (one dead letter, not one per group); this one acks
   * and skips them. Entries its own handler rejects are still dead-lettered.
   */
  deadLetterMalformed?: boolean;
  /** Apply a batch; the loop acks the batch only after this resolves. */
  handle: (entries: Entry<T>[]) => Promise<void>;
  signal: AbortSignal;
  log: Logger;
  count?: number;
  /** Kept well inside the shutdown deadline so a stop is never held by a blocked read. */
  blockMs?: number;
  /** Entries pending this long on another (dead) consumer are claimed. */
  claimIdleMs?: number;
  /** A batch that fails this many times is retried entry by entry; an entry that fails alone is dead-lettered. */
  maxFailures?: number;
  onDeadLetter?: (reason: string) => void;
  onLoopError?: (err: unknown) => void;
}

type XReadGroupReply = [stream: string, entries: RawEntry[]][] | null;

/**
 * At-least-once consumption of one stream by a consumer group: reads its own
 * pending entries first (a restart with the same consumer name resumes),
 * claims entries a dead consumer left, dead-letters entries that fail their
 * schema, acks only after `handle` has written its output. Never throws:
 * errors are logged and the loop retries with backoff until `signal` aborts.
 */
export async function runGroupConsumer<T>(opts: GroupConsumerOptions<T>): Promise<void> {
  const { redis, stream, group, consumer, log, signal } = opts;
  const count = opts.count ?? 500;
  const blockMs = opts.blockMs ?? 1000;
  const claimIdleMs = opts.claimIdleMs ?? 30_000;
  const maxFailures = opts.maxFailures ?? 3;
  const failures = new Map<string, number>();
  let cursor = '0'; // own pending first; switches to '>' once they are drained
  let groupReady = false;
  let lastClaim = 0;
  let backoff = 0;
  // ioredis re-sends a command whose reply was lost when the connection
  // closed. Redis may already have run a lost XREADGROUP '>' (its entries
  // are in our pending list, never seen here), and the re-sent read returns
  // later entries. So a reply that straddles a reconnect is not processed:
  // our own pending is read again from '0', in stream order.
  let closes = 0;
  const onClose = (): void => void closes++;
  redis.on('close', onClose);

  while (!signal.aborted) {
    try {
      if (!groupReady) {
        await ensureGroup(redis, stream, group, opts.startId);
        groupReady = true;
      }
      if (Date.now() - lastClaim >= claimIdleMs) {
        lastClaim = Date.now();
        await claimAbandoned(opts, claimIdleMs);
      }
      const closesBefore = closes;
      const reply = (await redis.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        count,
        'BLOCK',
        cursor === '>' ? blockMs : 1,
        'STREAMS',
        stream,
        cursor,
      )) as XReadGroupReply;
      if (closes !== closesBefore) {
        cursor = '0';
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (cursor === '0' && entries.length === 0) cursor = '>';
      if (entries.length > 0) await processBatch(opts, entries, failures, maxFailures);
      backoff = 0;
    } catch (err) {
      if (signal.aborted) break;
      const message = (err as Error).message ?? String(err);
      if (message.includes('NOGROUP')) groupReady = false; // Redis lost its data: recreate
      cursor = '0'; // whatever was in flight is still pending: read it again
      backoff = Math.min(5000, backoff ? backoff * 2 : 100);
      log.warn({ err: message, stream, backoffMs: backoff }, 'group consumer error, retrying');
      opts.onLoopError?.(err);
      await abortableSleep(backoff, signal);
    }
  }
  redis.off('close', onClose);
}

async function ensureGroup(
  redis: Redis,
  stream: string,
  group: string,
  startId: string,
): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
  } catch (err) {
    if (!(err as Error).message.includes('BUSYGROUP')) throw err;
  }
}

async function claimAbandoned<T>(opts: GroupConsumerOptions<T>, idleMs: number): Promise<void> {
  // Claimed entries become this consumer's pending: the next '0' read picks them up.
  const [, claimed] = (await opts.redis.xautoclaim(
    opts.stream,
    opts.group,
    opts.consumer,
    idleMs,
    '0-0',
    'COUNT',
    1000,
  )) as [string, RawEntry[], string[]];
  if (claimed.length > 0) {
    opts.log.info(
      { stream: opts.stream, claimed: claimed.length },
      'claimed entries of a dead consumer',
    );
    await processBatch(opts, claimed, new Map(), 1);
  }
}

async function processBatch<T>(
  opts: GroupConsumerOptions<T>,
  raw: RawEntry[],
  failures: Map<string, number>,
  maxFailures: number,
): Promise<void> {
  const { redis, stream, group, log } = opts;
  const valid: Entry<T>[] = [];
  for (const [id, fields] of raw) {
    if (!fields) continue; // deleted/trimmed while pending: nothing left to process
    const decoded = decodeEntry(fields, opts.schema);
    if (decoded.ok) {
      valid.push({ id, value: decoded.value });
    } else if (opts.deadLetterMalformed === false) {
      log.debug({ stream, id, reason: decoded.reason }, 'skipping malformed entry');
      await redis.xack(stream, group, id);
    } else {
      log.warn({ stream, id, reason: decoded.reason }, 'dead-lettering malformed entry');
      // Two commands, not a MULTI: the dead-letter stream lives in another
      // Cluster slot. A crash between them dead-letters it twice, never loses it.
      await deadLetter(redis, opts.deadLetterStream, {
        stream,
        id,
        fields,
        reason: decoded.reason,
      });
      await redis.xack(stream, group, id);
      opts.onDeadLetter?.(decoded.reason);
    }
  }
  if (valid.length === 0) {
    const gone = raw.filter(([, f]) => !f).map(([id]) => id);
    if (gone.length) await redis.xack(stream, group, ...gone);
    return;
  }
  try {
    await opts.handle(valid);
  } catch (err) {
    const key = valid[0]!.id;
    const n = (failures.get(key) ?? 0) + 1;
    failures.set(key, n);
    if (n < maxFailures) throw err;
    await isolatePoison(opts, valid);
    failures.delete(key);
    return;
  }
  failures.delete(valid[0]!.id);
  await redis.xack(stream, group, ...raw.map(([id]) => id));
}

/** A batch kept failing: apply entry by entry, dead-letter the ones that fail alone. */
async function isolatePoison<T>(opts: GroupConsumerOptions<T>, entries: Entry<T>[]): Promise<void> {
  for (const entry of entries) {
    try {
      await opts.handle([entry]);
      await opts.redis.xack(opts.stream, opts.group, entry.id);
    } catch (err) {
      const reason = `handler failed: ${(err as Error).message}`;
      opts.log.error(
        { stream: opts.stream, id: entry.id, err },
        'dead-lettering an entry the handler rejects',
      );
      await deadLetter(opts.redis, opts.deadLetterStream, {
        stream: opts.stream,
        id: entry.id,
        fields: ['d', JSON.stringify(entry.value)],
        reason,
      });
      await opts.redis.xack(opts.stream, opts.group, entry.id);
      opts.onDeadLetter?.(reason);
    }
  }
}
