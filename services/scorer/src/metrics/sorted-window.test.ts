import { describe, expect, it } from 'vitest';
import { cvarCount, sortedPercentile } from './quantile.js';
import { OrderStatisticTree } from './order-statistic-tree.js';
import { SortedWindow } from './sorted-window.js';
import { mulberry32 } from './testing/seeded-series.js';

const IMPLEMENTATIONS = [
  ['SortedWindow', (capacity: number, cutoff: number) => new SortedWindow(capacity, cutoff)],
  // Grows slot by slot as it fills (doubling from one slot up to its capacity).
  [
    'SortedWindow from one slot',
    (capacity: number, cutoff: number) => new SortedWindow(capacity, cutoff, 1),
  ],
  [
    'OrderStatisticTree',
    (capacity: number, cutoff: number) => new OrderStatisticTree(capacity, cutoff),
  ],
] as const;

describe.each(IMPLEMENTATIONS)('%s', (_, make) => {
  it('keeps order statistics and the CVaR tail sum through inserts, removes and replaces', () => {
    const rand = mulberry32(11);
    for (const cutoff of [0, 0.05, 0.3, 1]) {
      const capacity = 50;
      const win = make(capacity, cutoff);
      const ref: number[] = [];
      // Few distinct values, so ties are frequent.
      const draw = (): number => Math.round((rand() - 0.5) * 40) / 1000;
      for (let step = 0; step < 3000; step++) {
        const u = rand();
        if (ref.length > 0 && (u < 0.3 || ref.length === capacity)) {
          const out = ref[Math.floor(rand() * ref.length)]!;
          ref.splice(ref.indexOf(out), 1);
          if (u < 0.15 && ref.length < capacity) {
            const x = draw();
            ref.push(x);
            win.replace(out, x);
          } else {
            win.remove(out);
          }
        } else {
          const x = draw();
          ref.push(x);
          win.insert(x);
        }
        const sorted = [...ref].sort((a, b) => a - b);
        expect(win.length).toBe(sorted.length);
        for (const q of [cutoff, 0.05, 0.95]) {
          expect(win.percentile(q)).toBe(sortedPercentile(sorted, sorted.length, q));
        }
        const k = cvarCount(sorted.length, cutoff);
        const tail = sorted.slice(0, k).reduce((a, b) => a + b, 0) / k;
        if (k === 0) expect(win.tailMean()).toBeNaN();
        else expect(win.tailMean()).toBeCloseTo(tail, 14);
      }
    }
  });

  it('refuses to remove a value it does not hold', () => {
    const win = make(4, 0.05);
    win.insert(0.01);
    expect(() => win.remove(0.02)).toThrow(/not in the window/);
  });
});

describe('sortedPercentile', () => {
  it("interpolates linearly at (n - 1) * q, numpy's default", () => {
    expect(sortedPercentile([1, 2], 2, 0.3)).toBeCloseTo(1.3, 15);
    expect(sortedPercentile([1, 81, 82, 83, 84, 85], 6, 0.1)).toBeCloseTo(41, 12);
    expect(sortedPercentile([], 0, 0.5)).toBeNaN();
  });
});
