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

/**
 * Entries a resume may still read, shared by the replays of one stream's
 * partitions (they run concurrently): past zero the resume gives up with
 * `too_far_behind`, and the other replays stop at their next page.
 */
export interface ReplayBudget {
  left: number;
}

export interface ReplayOptions {
  redis: Redis;
  /** The stream of one partition. */
  key: string;
  stream: ResumeStream;
  part: number;
  since: string;
  match: (b: Broadcast) => boolean;
  budget: ReplayBudget;
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
 * What a client missed on one partition's stream since `since`, read with
 * XRANGE (one key per command: legal on a Cluster). The
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
  let page = (rangeReply?.[1] ?? []) as [string, string[]][];
  for (;;) {
    opts.budget.left -= page.length;
    if (opts.budget.left < 0) return { ok: false, reason: 'too_far_behind' };
    for (const [pos, fields] of page) {
      cutoff = pos;
      const d = decodeBroadcast(opts.stream, opts.part, pos, fields);
      if (!d.ok) opts.onBad?.(pos, d.reason);
      else if (opts.match(d.b)) entries.push(d.b);
    }
    if (page.length < PAGE) break;
    page = (await redis.xrange(key, `(${cutoff}`, '+', 'COUNT', PAGE)) as [string, string[]][];
  }
  return { ok: true, entries, cutoff };
}
