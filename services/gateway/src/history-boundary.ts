import { HISTORIAN_GROUP, splitEntryId, type Keys, type Topic } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { partitionsOf } from './history.js';
import { streamKey, streamOf } from './topics.js';

/**
 * Where the streams take over from the database, exactly. The historian
 * acknowledges an entry only after its row committed, so its consumer
 * group says what the database holds: on each stream, every entry up to
 * the group's last-delivered id that is not pending has its row. The
 * streams are read from the oldest write time that may not: the smallest
 * pending id, else the last delivered one (same millisecond included),
 * over the topic's partitions. Whatever the historian's lag, and however
 * unevenly it copies the partitions, nothing falls between the two sides;
 * an entry both hold is one point (keyed by partition and entry id).
 *
 * (It replaces "five minutes before the newest row in the database", which
 * left a gap whenever some partition lagged more than that, as under
 * maximum load or after a PostgreSQL outage.)
 *
 * Answers undefined when some stream has entries but no historian group
 * (none ever ran on it): the streams must then answer the whole range.
 */
export async function copiedUntil(
  redis: Redis,
  keys: Keys,
  partitions: number,
  topic: Topic,
): Promise<number | undefined> {
  const stream = streamOf(topic);
  const bounds = await Promise.all(
    partitionsOf(topic, partitions).map((p) => streamBound(redis, streamKey(keys, stream, p))),
  );
  let until = Infinity;
  for (const b of bounds) {
    if (b === undefined) return undefined;
    until = Math.min(until, b);
  }
  return until;
}

/** One stream's bound: Infinity when it holds nothing, undefined when it has no historian group. */
async function streamBound(redis: Redis, key: string): Promise<number | undefined> {
  let groups: unknown[][];
  try {
    groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
  } catch {
    return Infinity; // no such stream: nothing in it for the database to miss
  }
  for (const g of groups) {
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
    if (f.get('name') !== HISTORIAN_GROUP) continue;
    const lastDelivered = splitEntryId(String(f.get('last-delivered-id') ?? '0-0')).ms;
    if (Number(f.get('pending') ?? 0) === 0) return lastDelivered;
    // XPENDING's summary: [count, smallest id, greatest id, consumers].
    const summary = (await redis.xpending(key, HISTORIAN_GROUP)) as [number, string | null];
    const smallest = summary[1];
    return smallest ? Math.min(lastDelivered, splitEntryId(smallest).ms) : lastDelivered;
  }
  return (await redis.xlen(key)) === 0 ? Infinity : undefined;
}
