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
