/** keyspace_hits / keyspace_misses from the text of INFO stats. */
export function parseKeyspaceStats(info: string): { hits: number; misses: number } | undefined {
  const hits = /^keyspace_hits:(\d+)/m.exec(info);
  const misses = /^keyspace_misses:(\d+)/m.exec(info);
  if (!hits?.[1] || !misses?.[1]) return undefined;
  return { hits: Number(hits[1]), misses: Number(misses[1]) };
}

/**
 * Hit rate in percent over the interval between two readings (a rate since
 * Redis started would hide today's misses). Undefined when there were no
 * lookups, or when the counters went back (a Redis restart).
 */
export function hitRatePercent(
  prev: { hits: number; misses: number },
  cur: { hits: number; misses: number },
): number | undefined {
  const h = cur.hits - prev.hits;
  const m = cur.misses - prev.misses;
  if (h < 0 || m < 0 || h + m === 0) return undefined;
  return (h / (h + m)) * 100;
}

/**
 * Per instance and pooled hit rates from before/after readings per
 * instance (an instance missing either reading, or restarted, is left out
 * of the pool). Pooling sums hits and misses: a busy cache weighs more than
 * an idle one.
 */
export function cacheHitRates(
  readings: { name: string; prev: KeyspaceStats | undefined; cur: KeyspaceStats | undefined }[],
): { pooled: number | undefined; each: { name: string; hitRate?: number }[] } {
  let hits = 0;
  let misses = 0;
  const each = readings.map(({ name, prev, cur }) => {
    if (!prev || !cur) return { name };
    const rate = hitRatePercent(prev, cur);
    if (rate === undefined) return { name };
    hits += cur.hits - prev.hits;
    misses += cur.misses - prev.misses;
    return { name, hitRate: rate };
  });
  return { pooled: hits + misses > 0 ? (hits / (hits + misses)) * 100 : undefined, each };
}

export type KeyspaceStats = { hits: number; misses: number };

/** A listed Redis URL as a label, without credentials: host:port/db. */
export function redisLabel(url: string): string {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '') || '0';
  return `${u.hostname}:${u.port || '6379'}/${db}`;
}
