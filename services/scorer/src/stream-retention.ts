/**
 * Where time retention may trim a stream (pure: no Redis). XTRIM MINID
 * removes every entry whose id is below the point, so the point is the
 * lowest of:
 * - the age cutoff, `<now - retention>-0` (stream ids are Redis's clock);
 * - for every consumer group, the oldest entry it has not yet processed:
 *   its oldest pending entry (delivered, not acknowledged), else the entry
 *   right after its last-delivered-id (everything after it is undelivered).
 * So an entry some group still has to process is kept whatever its age; a
 * group that never moves (a consumer gone for good) holds the stream back
 * until the length cap (STREAM_MAXLEN) takes over.
 */

/** What one consumer group still needs of a stream (XINFO GROUPS and XPENDING). */
export interface GroupHold {
  group: string;
  /** XINFO GROUPS `last-delivered-id`: `0-0` for a group that has read nothing. */
  lastDeliveredId: string;
  /** XPENDING's smallest id; undefined when nothing is pending. */
  oldestPendingId?: string | undefined;
}

export interface TrimPoint {
  /** XTRIM MINID argument: entries with a lower id may go. */
  minId: string;
  /** The group that holds the point below the age cutoff; undefined when age decides. */
  heldBy: string | undefined;
}

const ID = /^(\d+)-(\d+)$/;
const MAX_SEQ = 2n ** 64n - 1n;

/** A stream id as [ms, seq]; throws on anything else (a reply Redis would not give). */
export function parseStreamId(id: string): [bigint, bigint] {
  const m = ID.exec(id);
  if (!m) throw new Error(`not a stream id: ${JSON.stringify(id)} (expected <ms>-<seq>)`);
  return [BigInt(m[1]!), BigInt(m[2]!)];
}

/** <0, 0, >0 as a is below, equal to, above b (ms first, then seq: exact for any seq). */
export function compareIds(a: string, b: string): number {
  const [am, as] = parseStreamId(a);
  const [bm, bs] = parseStreamId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The smallest id above `id`: the first entry a group has not been delivered yet. */
export function nextId(id: string): string {
  const [ms, seq] = parseStreamId(id);
  return seq === MAX_SEQ ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
}

/**
 * The trim point for a stream at `nowMs` (Redis's clock) keeping
 * `retentionMs`, never above what a group has yet to process.
 */
export function retentionTrimPoint(
  nowMs: number,
  retentionMs: number,
  groups: readonly GroupHold[],
): TrimPoint {
  if (!Number.isSafeInteger(nowMs) || !Number.isSafeInteger(retentionMs) || retentionMs <= 0) {
    throw new Error(`retention trim point: bad clock ${nowMs} or retention ${retentionMs}`);
  }
  let minId = `${Math.max(0, nowMs - retentionMs)}-0`;
  let heldBy: string | undefined;
  for (const g of groups) {
    const needed = g.oldestPendingId ?? nextId(g.lastDeliveredId);
    if (compareIds(needed, minId) < 0) {
      minId = needed;
      heldBy = g.group;
    }
  }
  return { minId, heldBy };
}

/**
 * How far (ms) a group holds the trim point behind the age cutoff; 0 when
 * age decides. `oldestEntryMs` is the stream's first entry (undefined: the
 * stream is empty): a group that has read nothing points at `0-0`, but it
 * holds back only what the stream still has, not everything since 1970.
 */
export function heldBackMs(
  nowMs: number,
  retentionMs: number,
  point: TrimPoint,
  oldestEntryMs?: number,
): number {
  if (point.heldBy === undefined || oldestEntryMs === undefined) return 0;
  const [ms] = parseStreamId(point.minId);
  return Math.max(0, nowMs - retentionMs - Math.max(Number(ms), oldestEntryMs));
}
