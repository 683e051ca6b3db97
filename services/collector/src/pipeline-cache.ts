import { isCluster } from '@quantmon/shared';
import type { Cluster, Redis } from 'ioredis';
import { parseKeyspaceStats } from './redis-info.js';

/**
 * `INFO stats` of quantmon's own Redis, for its cache hit rate. On a
 * single Redis, its INFO. On a Cluster INFO answers for one node only, so
 * the masters' `keyspace_hits` and `keyspace_misses` are summed and
 * answered in INFO's own format (a node that cannot be read fails the
 * reading: a partial sum would show as a counter going back).
 */
export async function pipelineCacheInfo(redis: Redis): Promise<string> {
  if (!isCluster(redis)) return redis.info('stats');
  const masters = (redis as unknown as Cluster).nodes('master');
  const stats = await Promise.all(
    masters.map(async (n) => parseKeyspaceStats(await n.info('stats'))),
  );
  let hits = 0;
  let misses = 0;
  for (const s of stats) {
    if (!s) throw new Error('a Cluster master answered INFO stats without keyspace counters');
    hits += s.hits;
    misses += s.misses;
  }
  return `keyspace_hits:${hits}\r\nkeyspace_misses:${misses}\r\n`;
}
