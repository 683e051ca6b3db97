import { describe, expect, it } from 'vitest';
import { nextCycleAt } from './partition-scorer.js';

describe('the read beat after a batch (nextCycleAt)', () => {
  it('is the next multiple of the linger on the wall clock, whenever in the beat the read was', () => {
    expect(nextCycleAt(1_000, 20)).toBe(1_020);
    expect(nextCycleAt(1_001, 20)).toBe(1_020);
    expect(nextCycleAt(1_019, 20)).toBe(1_020);
  });

  it('puts partitions read at different moments of one beat on the same next read', () => {
    const reads = [5_000_003, 5_000_007, 5_000_011, 5_000_019];
    expect(new Set(reads.map((r) => nextCycleAt(r, 20)))).toEqual(new Set([5_000_020]));
  });

  it('never waits more than the linger', () => {
    for (let t = 7_000; t < 7_100; t += 3) {
      const wait = nextCycleAt(t, 20) - t;
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(20);
    }
  });
});
