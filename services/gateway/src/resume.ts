import type { ResetReason, ResumeStream } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { decodeBroadcast, type Broadcast } from './stream-feed.js';
import { compareIds } from './stream-pos.js';

export type ReplayResult =
  | {
      ok: true;
      /** Matching entries after `since`, oldest first. */
      entries: Broadcast[];
      /** The last entry read (matching or not): live frames up to here are duplicates. */
      cutoff: string;
    }
  | { ok: false; reason: ResetReason };

export interface ReplayOptions {
  redis: Redis;
  key: string;
  stream: ResumeStream;
  since: string;
  match: (b: Broadcast) => boolean;
  /** Most entries read before giving up with `too_far_behind`. */
  max: number;
  onBad?: (pos: string, reason: string) => void;
}

const PAGE = 1000;

function field(info: unknown, name: string): string | undefined {
  if (!Array.isArray(info)) return undefined;
  for (let i = 0; i + 1 < info.length; i += 2) {
    if (info[i] === name) return String(info[i + 1]);
  }
  return undefined;
}

/**
 * Could an entry after `since` be gone? XDEL shows in max-deleted-entry-id;
 * MAXLEN trimming (which does not update it) removes the oldest entries, so
 * a position older than the first entry kept, in a stream that lost
 * entries, may have lost some of what followed it. Conservative: a resume
 * that might be incomplete is refused, never handed out with a hole.
 */
function lostAfter(since: string, info: unknown, lastGenerated: string): boolean {
  if (compareIds(since, field(info, 'max-deleted-entry-id') ?? '0-0') < 0) return true;
  const added = Number(field(info, 'entries-added') ?? 0);
  const length = Number(field(info, 'length') ?? 0);
  if (added <= length) return false; // nothing was ever removed
  const first = field(info, 'recorded-first-entry-id');
  if (length === 0 || !first || first === '0-0') return compareIds(since, lastGenerated) < 0;
  return compareIds(since, first) < 0;
}

/**
 * What a client missed on one stream since `since`, read with XRANGE. The
 * first page is read in one MULTI with XINFO STREAM, so the trim check and
 * the entries describe the same moment: if anything after `since` may have
 * been trimmed the resume is refused (`trimmed`: the client gets a reset and
 * a snapshot) instead of handing back a history with a hole in it.
 */
export async function replaySince(opts: ReplayOptions): Promise<ReplayResult> {
  const { redis, key, since } = opts;
  const first = await redis
    .multi()
    .xinfo('STREAM', key)
    .xrange(key, `(${since}`, '+', 'COUNT', PAGE)
    .exec();
  const [infoReply, rangeReply] = first ?? [];
  if (!infoReply || infoReply[0]) {
    // No such stream: nothing was ever written (or it was deleted).
    return since === '0-0'
      ? { ok: true, entries: [], cutoff: since }
      : { ok: false, reason: 'unknown_position' };
  }
  const info = infoReply[1];
  const lastGenerated = field(info, 'last-generated-id') ?? '0-0';
  if (compareIds(since, lastGenerated) > 0) return { ok: false, reason: 'unknown_position' };
  if (lostAfter(since, info, lastGenerated)) return { ok: false, reason: 'trimmed' };

  const entries: Broadcast[] = [];
  let cutoff = since;
  let scanned = 0;
  let page = (rangeReply?.[1] ?? []) as [string, string[]][];
  for (;;) {
    scanned += page.length;
    if (scanned > opts.max) return { ok: false, reason: 'too_far_behind' };
    for (const [pos, fields] of page) {
      cutoff = pos;
      const d = decodeBroadcast(opts.stream, pos, fields);
      if (!d.ok) opts.onBad?.(pos, d.reason);
      else if (opts.match(d.b)) entries.push(d.b);
    }
    if (page.length < PAGE) break;
    page = (await redis.xrange(key, `(${cutoff}`, '+', 'COUNT', PAGE)) as [string, string[]][];
  }
  return { ok: true, entries, cutoff };
}
