import { describe, expect, it } from 'vitest';
import {
  beatOffset,
  FULL_READ_PER_STRATEGY,
  nextCycleAt,
  READ_COUNT,
  READ_COUNT_MAX,
  readCount,
} from './partition-scorer.js';

describe('the read beat after a batch (nextCycleAt)', () => {
  it('is the next multiple of the linger on the wall clock, whenever in the beat the read was', () => {
    expect(nextCycleAt(1_000, 20)).toBe(1_020);
    expect(nextCycleAt(1_001, 20)).toBe(1_020);
    expect(nextCycleAt(1_019, 20)).toBe(1_020);
  });

  it('puts reads at different moments of one beat on the same next read', () => {
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

describe('the partitions read in turns (beatOffset)', () => {
  it('gives partition p of P the phase p/P of the beat', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((p) => beatOffset(p, 8, 20))).toEqual([
      0, 2.5, 5, 7.5, 10, 12.5, 15, 17.5,
    ]);
    expect(beatOffset(0, 1, 20)).toBe(0);
  });

  it('puts each partition on its own beat, still at most one linger after the read', () => {
    const offsets = [0, 1, 2, 3].map((p) => beatOffset(p, 4, 20));
    const t = 9_000_001;
    const next = offsets.map((o) => nextCycleAt(t, 20, o));
    expect(next).toEqual([9_000_020, 9_000_005, 9_000_010, 9_000_015]);
    for (let r = 9_000_000; r < 9_000_100; r += 3) {
      for (const o of offsets) {
        const at = nextCycleAt(r, 20, o);
        expect(at - r).toBeGreaterThan(0);
        expect(at - r).toBeLessThanOrEqual(20);
        expect((at - o) % 20).toBe(0); // on its own phase
      }
    }
  });
});

describe('the read size (readCount)', () => {
  it('is READ_COUNT for a few strategies, 16 samples per strategy for many, capped', () => {
    expect(readCount(0)).toBe(READ_COUNT);
    expect(readCount(13)).toBe(READ_COUNT);
    expect(readCount(READ_COUNT / FULL_READ_PER_STRATEGY)).toBe(READ_COUNT);
    expect(readCount(250)).toBe(250 * FULL_READ_PER_STRATEGY);
    expect(readCount(500)).toBe(8_000);
    expect(readCount(5_000)).toBe(READ_COUNT_MAX);
  });
});
