import { describe, expect, it } from 'vitest';
import { DrawdownWindow } from './drawdown-window.js';
import { mulberry32 } from './testing/seeded-series.js';

/** Direct definition: prefix sums with P_0 = 0, running peak, worst gap. */
function bruteForce(gs: readonly number[]): [number, number, number] {
  let p = 0;
  let peak = 0;
  let worst = 0;
  for (const g of gs) {
    p += g;
    if (p > peak) peak = p;
    if (p - peak < worst) worst = p - peak;
  }
  return [p, peak, worst];
}

describe('DrawdownWindow', () => {
  it('matches the direct drawdown of the window through any sequence of pushes and shifts', () => {
    const rand = mulberry32(7);
    // Starting from one slot, the window grows (doubling) with samples in both stacks.
    for (const [capacity, initial] of [
      [1, 16],
      [2, 16],
      [3, 16],
      [10, 16],
      [37, 16],
      [64, 16],
      [37, 1],
      [64, 1],
      [200, 1],
    ] as const) {
      const win = new DrawdownWindow(capacity, initial);
      const ref: number[] = [];
      const out = new Float64Array(3);
      for (let step = 0; step < 2000; step++) {
        // Mostly full-window replacement, as in the engine; sometimes a run of
        // shifts (a time window evicting) or a push into a part-full window.
        const u = rand();
        if (ref.length > 0 && (ref.length === capacity || u < 0.3)) {
          win.shift();
          ref.shift();
        }
        if (u >= 0.1) {
          const v = rand();
          const g = v < 0.02 ? -Infinity : v < 0.1 ? 0 : Math.log1p((rand() - 0.5) * 0.2);
          win.push(g);
          ref.push(g);
        }
        expect(win.length).toBe(ref.length);
        win.query(out);
        const [sum, maxP, minDD] = bruteForce(ref);
        if (sum === -Infinity) expect(out[0]).toBe(-Infinity);
        else expect(out[0]).toBeCloseTo(sum, 12);
        expect(out[1]).toBeCloseTo(maxP, 12);
        if (minDD === -Infinity) expect(out[2]).toBe(-Infinity);
        else expect(out[2]).toBeCloseTo(minDD, 12);
      }
    }
  });

  it('reports no drawdown for a rising window and -100 % after a wipe-out', () => {
    const win = new DrawdownWindow(4);
    const out = new Float64Array(3);
    for (const r of [0.01, 0.02, 0, 0.03]) win.push(Math.log1p(r));
    win.query(out);
    expect(out[2]).toBe(0);
    win.shift(); // flips: the three left sit in the front stack, the wipe-out goes to the back
    win.push(Math.log1p(-1));
    win.query(out);
    expect(Math.expm1(out[2]!)).toBe(-1);
    expect(Math.expm1(out[0]!)).toBe(-1);
  });
});
