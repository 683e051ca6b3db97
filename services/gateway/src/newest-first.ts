import type { RawEntry } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { compareIds } from './stream-pos.js';

/** One stream to merge: a partition's stream key. */
export interface MergeSource {
  part: number;
  key: string;
}

export interface MergedEntry {
  part: number;
  entry: RawEntry;
}

interface Cursor {
  src: MergeSource;
  buf: RawEntry[];
  /** Next unread entry of buf. */
  at: number;
  /** XREVRANGE's end for the next page. */
  end: string;
  done: boolean;
}

/**
 * The entries of several streams (one per partition) between `end` and
 * `start` (XREVRANGE bounds), newest first by stream id across them (ties:
 * the lower partition first), read lazily in pages of `page` per stream.
 * Each command names one key, so this runs on a Cluster as on one Redis.
 * Ids are write times: on one Redis the merge is in write order; on a
 * Cluster each node stamps its own, so it is in order to within the
 * nodes' clock skew.
 */
export async function* newestFirst(
  redis: Redis,
  sources: readonly MergeSource[],
  end: string,
  start: string,
  page: number,
): AsyncGenerator<MergedEntry> {
  const cursors: Cursor[] = sources.map((src) => ({ src, buf: [], at: 0, end, done: false }));
  const fill = async (c: Cursor): Promise<void> => {
    const got = (await redis.xrevrange(c.src.key, c.end, start, 'COUNT', page)) as RawEntry[];
    c.buf = got;
    c.at = 0;
    const last = got[got.length - 1];
    if (got.length < page || !last) c.done = true;
    else c.end = `(${last[0]}`;
  };
  for (;;) {
    const empty = cursors.filter((c) => c.at >= c.buf.length && !c.done);
    if (empty.length > 0) await Promise.all(empty.map(fill));
    let best: Cursor | undefined;
    let top: RawEntry | undefined;
    for (const c of cursors) {
      const head = c.buf[c.at];
      if (head && (!top || compareIds(head[0], top[0]) > 0)) {
        best = c;
        top = head;
      }
    }
    if (!best || !top) return;
    best.at++;
    yield { part: best.src.part, entry: top };
  }
}
