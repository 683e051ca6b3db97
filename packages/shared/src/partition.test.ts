import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf } from './partition.js';

describe('partitionOf', () => {
  it('is the documented hash: FNV-1a 32 of the UTF-8 bytes, finalised, mod P', () => {
    // Reference FNV-1a values (the algorithm's published test vectors).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // Pinned: a change here moves every stored strategy to another partition.
    expect(['alpha', 'beta', 'demo-trend', 'é'].map((s) => partitionOf(s, 8))).toEqual([
      7, 1, 7, 7,
    ]);
  });

  it('spreads sequential ids evenly over the partitions', () => {
    for (const P of [4, 8, 16]) {
      const counts = new Array<number>(P).fill(0);
      for (let i = 0; i < 16_000; i++) counts[partitionOf(`strat-${i}`, P)]!++;
      const expected = 16_000 / P;
      for (const c of counts) expect(Math.abs(c - expected) / expected).toBeLessThan(0.1);
    }
  });

  it('puts everything in partition 0 when P is 1', () => {
    expect(partitionOf('anything', 1)).toBe(0);
  });
});
