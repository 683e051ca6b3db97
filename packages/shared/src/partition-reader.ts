import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from './logger.js';
import { FencedError } from './partition-leases.js';
import { abortableSleep } from './sleep.js';
import { deadLetter, decodeEntry, type RawEntry } from './stream-codec.js';

/** One stream of a partition, read by its owner. */
export interface OwnedStream<T> {
  key: string;
  schema: z.ZodType<T>;
  /** Where the group starts when it is first created: '0' (everything retained) or '$' (new only). */
  startId: '0' | '$';
}

/** Where the owner's group stands on one stream; committed with the output. */
export interface StreamPosition {
  key: string;
  /** The committed position this one moves on from (the previous `id`). */
  from: string;
  /** The last entry consumed (the group's last-delivered-id). */
  id: string;
  /** Entries consumed since the group was created (the group's entries-read: its lag is exact). */
  read: number;
}

export interface OwnedBatch<T> {
  stream: string;
  entries: { id: string; value: T }[];
}

/**
 * Apply one read's valid entries and, in the same fenced atomic step, move
 * the group positions to `positions` (XGROUP SETID ... ENTRIESREAD inside
 * the write's Lua). Entries may be empty: malformed ones were dead-lettered
 * and the positions still move past them.
 */
export type CommitBatch<T> = (
  batches: OwnedBatch<T>[],
  positions: StreamPosition[],
) => Promise<void | ReadPause>;

/**
 * A handler's request to wait before the next read (the scorer's read
 * beat). The reader waits once the read is done with, holding none of its
 * entries: a pause inside the handler kept the read's reply and decoded
 * entries alive for the whole beat, in every partition at once, and each
 * young-generation collection copied them (docs/performance.md,
 * "twenty-eighth session").
 */
export interface ReadPause {
  pauseMs: number;
}

export interface OwnedReaderOptions<T> {
  /** A connection of its own: XREAD BLOCK holds it. */
  redis: Redis;
  /** Streams of ONE partition (one hash tag: a single XREAD covers them on a Cluster too). */
  streams: OwnedStream<T>[];
  group: string;
  deadLetterStream: string;
  handle: CommitBatch<T>;
  /** The term's signal: aborts when the lease is lost or released. */
  signal: AbortSignal;
  log: Logger;
  /** Entries per read (default 500); a function is asked before each read. */
  count?: number | (() => number);
  blockMs?: number;
  /** A batch that fails this many times is applied entry by entry; an entry that fails alone is dead-lettered. */
  maxFailures?: number;
  /** `stream`: the key of the stream the entry came from. */
  onDeadLetter?: (reason: string, stream: string) => void;
  onLoopError?: (err: unknown) => void;
  /** Called with each position committed (the read's newest entry ids). */
  onCommitted?: (positions: readonly StreamPosition[]) => void;
}

function field(flat: unknown, name: string): unknown {
  if (!Array.isArray(flat)) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/**
 * The position of `group` on `key`, creating the group (MKSTREAM) when it
 * does not exist. The group is the committed position of the partition's
 * owner: a new owner starts exactly where the last fenced write left it.
 */
export async function groupPosition(
  redis: Redis,
  key: string,
  group: string,
  startId: '0' | '$',
): Promise<StreamPosition> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let groups: unknown[] = [];
    try {
      groups = (await redis.xinfo('GROUPS', key)) as unknown[];
    } catch (err) {
      if (!(err as Error).message.includes('no such key')) throw err;
    }
    for (const g of groups) {
      if (field(g, 'name') !== group) continue;
      const read = Number(field(g, 'entries-read'));
      const id = String(field(g, 'last-delivered-id') ?? '0-0');
      return {
        key,
        from: id,
        id,
        read: Number.isFinite(read) ? read : 0,
      };
    }
    try {
      await redis.xgroup('CREATE', key, group, startId, 'MKSTREAM');
    } catch (err) {
      if (!(err as Error).message.includes('BUSYGROUP')) throw err;
    }
  }
  throw new Error(`group ${group} on ${key} could not be created`);
}

/**
 * The Lua lines that move the owner's group on each stream read, for a
 * fenced write script. From ARGV[base]: the group, the count n, then n
 * (KEYS index, from, to, entries read) quadruples (`positionArgs` builds
 * them). Before anything is written it checks every group still stands at
 * `from`: one that already stands at `to` means this very write ran before
 * (ioredis re-sent it after a reconnect lost the reply), and the script
 * returns 'dup' without writing again; anything else is an error. So a
 * batch's output is written once even across a Redis restart mid-reply.
 * Kept here so every owner commits its position the same way.
 */
export function setPositionsLua(base: number): string {
  return `
local pgroup, npos = ARGV[${base}], tonumber(ARGV[${base} + 1])
local function delivered(key)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    local f = {}
    for j = 1, #g, 2 do f[g[j]] = g[j + 1] end
    if f['name'] == pgroup then return f['last-delivered-id'] end
  end
  return redis.error_reply('NOGROUP ' .. pgroup .. ' on ' .. key)
end
for i = 0, npos - 1 do
  local at = ${base} + 2 + i * 4
  local cur = delivered(KEYS[tonumber(ARGV[at])])
  if type(cur) == 'table' then return cur end
  if cur == ARGV[at + 2] and cur ~= ARGV[at + 1] then return 'dup' end
  if cur ~= ARGV[at + 1] then
    return redis.error_reply('POSITION group ' .. pgroup .. ' stands at ' .. cur .. ', not ' .. ARGV[at + 1])
  end
end
for i = 0, npos - 1 do
  local at = ${base} + 2 + i * 4
  redis.call('XGROUP', 'SETID', KEYS[tonumber(ARGV[at])], pgroup, ARGV[at + 2], 'ENTRIESREAD', ARGV[at + 3])
end`;
}

/** ARGV for `setPositionsLua`: `keyIndex` maps a stream key to its KEYS index (1-based). */
export function positionArgs(
  group: string,
  positions: readonly StreamPosition[],
  keyIndex: (key: string) => number,
): (string | number)[] {
  const out: (string | number)[] = [group, positions.length];
  for (const p of positions) out.push(keyIndex(p.key), p.from, p.id, p.read);
  return out;
}

/**
 * At-least-once in, exactly-once out: the partition's owner reads its
 * streams with plain XREAD from the group's committed position and commits
 * the new position in the same fenced atomic step as its output. A read has
 * no side effect (unlike XREADGROUP '>'), so a paused replica that wakes
 * after losing the lease can neither write nor take entries away from the
 * new owner; a crash before the commit re-reads the same entries. Never
 * throws: errors are logged and retried with backoff until `signal` aborts;
 * a fenced write ends the loop.
 */
export async function runOwnedReader<T>(opts: OwnedReaderOptions<T>): Promise<void> {
  const { redis, group, log, signal } = opts;
  const fixed = typeof opts.count === 'number' ? opts.count : 500;
  const countOf = typeof opts.count === 'function' ? opts.count : () => fixed;
  const blockMs = opts.blockMs ?? 1000;
  const maxFailures = opts.maxFailures ?? 3;
  const byKey = new Map(opts.streams.map((s) => [s.key, s]));
  let positions: Map<string, StreamPosition> | undefined;
  let failures = 0;
  let backoff = 0;

  /**
   * One read and its handling; answers the pause the handler asked for. A
   * function of its own so that its reply and batches are unreachable once
   * it returns: the pause happens outside it.
   */
  const readOnce = async (): Promise<number> => {
    if (!positions) {
      positions = new Map();
      for (const s of opts.streams) {
        positions.set(s.key, await groupPosition(redis, s.key, group, s.startId));
      }
    }
    const keys = [...positions.keys()];
    const reply = (await redis.xread(
      'COUNT',
      countOf(),
      'BLOCK',
      blockMs,
      'STREAMS',
      ...keys,
      ...keys.map((k) => positions!.get(k)!.id),
    )) as [string, RawEntry[]][] | null;
    if (signal.aborted || !reply || reply.length === 0) return 0;
    const batches: OwnedBatch<T>[] = [];
    const next: StreamPosition[] = [];
    for (const [key, entries] of reply) {
      const stream = byKey.get(key);
      const last = entries.at(-1);
      if (!stream || !last) continue;
      const valid: { id: string; value: T }[] = [];
      for (const [id, fields] of entries) {
        const d = decodeEntry(fields, stream.schema);
        if (d.ok) valid.push({ id, value: d.value });
        else await deadLetterEntry(opts, key, id, fields, d.reason);
      }
      batches.push({ stream: key, entries: valid });
      const pos = positions.get(key)!;
      next.push({ key, from: pos.id, id: last[0], read: pos.read + entries.length });
    }
    let pause = 0;
    try {
      pause = (await opts.handle(batches, next))?.pauseMs ?? 0;
      failures = 0;
    } catch (err) {
      if (err instanceof FencedError || signal.aborted) throw err;
      if (++failures < maxFailures) throw err;
      failures = 0;
      await isolatePoison(opts, batches, positions);
    }
    for (const p of next) positions.set(p.key, p);
    opts.onCommitted?.(next);
    backoff = 0;
    return pause;
  };

  while (!signal.aborted) {
    try {
      const pause = await readOnce();
      if (pause > 0) await abortableSleep(pause, signal);
    } catch (err) {
      if (err instanceof FencedError) {
        log.warn({ err: err.message }, 'write fenced: this replica no longer owns the partition');
        break;
      }
      if (signal.aborted) break;
      const message = (err as Error).message ?? String(err);
      // Redis lost its data (NOGROUP) or a write failed: start again from the committed position.
      positions = undefined;
      backoff = Math.min(5000, backoff ? backoff * 2 : 100);
      log.warn({ err: message, backoffMs: backoff }, 'partition reader error, retrying');
      opts.onLoopError?.(err);
      await abortableSleep(backoff, signal);
    }
  }
}

async function deadLetterEntry<T>(
  opts: OwnedReaderOptions<T>,
  stream: string,
  id: string,
  fields: readonly string[],
  reason: string,
): Promise<void> {
  opts.log.warn({ stream, id, reason }, 'dead-lettering malformed entry');
  // A separate write (another slot on a Cluster): a crash before the commit
  // dead-letters the entry again on the re-read, never loses it.
  await deadLetter(opts.redis, opts.deadLetterStream, { stream, id, fields, reason });
  opts.onDeadLetter?.(reason, stream);
}

/** A batch kept failing: apply entry by entry; an entry that fails alone is dead-lettered and passed. */
async function isolatePoison<T>(
  opts: OwnedReaderOptions<T>,
  batches: OwnedBatch<T>[],
  positions: Map<string, StreamPosition>,
): Promise<void> {
  for (const b of batches) {
    let pos = positions.get(b.stream)!;
    for (const entry of b.entries) {
      const at = { key: b.stream, from: pos.id, id: entry.id, read: pos.read + 1 };
      try {
        await opts.handle([{ stream: b.stream, entries: [entry] }], [at]);
      } catch (err) {
        if (err instanceof FencedError) throw err;
        const reason = `handler failed: ${(err as Error).message}`;
        opts.log.error(
          { stream: b.stream, id: entry.id, err },
          'dead-lettering an entry the handler rejects',
        );
        await deadLetterEntry(opts, b.stream, entry.id, ['d', JSON.stringify(entry.value)], reason);
        await opts.handle([{ stream: b.stream, entries: [] }], [at]);
      }
      pos = at;
      positions.set(b.stream, pos);
    }
  }
}
