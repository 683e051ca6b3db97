import { describe, expect, it } from 'vitest';
import { CompensatedSum, compensatedSum } from './compensated-sum.js';
import { mulberry32 } from './testing/seeded-series.js';

describe('CompensatedSum', () => {
  it('keeps the low-order bits a plain sum loses', () => {
    expect(compensatedSum([1e16, 1, -1e16])).toBe(1);
    // The exact sum of the three doubles; a plain left-to-right sum gives 5.55e-17.
    expect(compensatedSum([0.1, 0.2, -0.3])).toBe(2.7755575615628914e-17);
  });

  it('returns to the exact window sum after a million adds and removes', () => {
    const rand = mulberry32(3);
    const acc = new CompensatedSum();
    const window: number[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 3);
      acc.add(x);
      window.push(x);
      if (window.length > 100) acc.add(-window.shift()!);
    }
    expect(acc.value).toBeCloseTo(compensatedSum(window), 15);
  });
});
