import { describe, expect, it } from 'vitest';
import { cacheHitRates, hitRatePercent, parseKeyspaceStats, redisLabel } from './redis-info.js';

describe('redis INFO hit rates', () => {
  it('parses keyspace_hits and keyspace_misses', () => {
    const info = '# Stats\r\nkeyspace_hits:30\r\nkeyspace_misses:10\r\n';
    expect(parseKeyspaceStats(info)).toEqual({ hits: 30, misses: 10 });
  });
  it('rates the interval, not the lifetime', () => {
    expect(hitRatePercent({ hits: 1000, misses: 0 }, { hits: 1003, misses: 1 })).toBe(75);
    expect(hitRatePercent({ hits: 5, misses: 5 }, { hits: 5, misses: 5 })).toBeUndefined();
  });
  it('pools instances by their lookups and labels each', () => {
    const r = cacheHitRates([
      { name: 'a', prev: { hits: 0, misses: 0 }, cur: { hits: 90, misses: 10 } },
      { name: 'b', prev: { hits: 0, misses: 0 }, cur: { hits: 0, misses: 100 } },
      { name: 'c', prev: undefined, cur: { hits: 1, misses: 1 } },
    ]);
    expect(r.pooled).toBe(45);
    expect(r.each).toEqual([{ name: 'a', hitRate: 90 }, { name: 'b', hitRate: 0 }, { name: 'c' }]);
  });
  it('labels a Redis URL without its credentials', () => {
    expect(redisLabel('redis://user:secret@cache.internal:6380/2')).toBe('cache.internal:6380/2');
    expect(redisLabel('redis://localhost')).toBe('localhost:6379/0');
  });
});
