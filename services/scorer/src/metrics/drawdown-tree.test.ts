import { describe, expect, it } from 'vitest';
import { DrawdownTree } from './drawdown-tree.js';
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

describe('DrawdownTree', () => {
  it('matches the direct drawdown of every wrapped window of a ring', () => {
    const rand = mulberry32(7);
    for (const capacity of [1, 2, 3, 10, 37, 64]) {
      const tree = new DrawdownTree(capacity);
      const slots = new Array<number>(capacity).fill(0);
      const out = new Float64Array(3);
      for (let step = 0; step < 400; step++) {
        const pos = Math.floor(rand() * capacity);
        const u = rand();
        const g = u < 0.02 ? -Infinity : u < 0.1 ? 0 : Math.log1p((rand() - 0.5) * 0.2);
        slots[pos] = g;
        tree.set(pos, g);
        const start = Math.floor(rand() * capacity);
        const count = 1 + Math.floor(rand() * capacity);
        const chrono = Array.from({ length: count }, (_, j) => slots[(start + j) % capacity]!);
        tree.query(start, count, capacity, out);
        const [sum, maxP, minDD] = bruteForce(chrono);
        expect(out[0]).toBeCloseTo(sum, 12);
        expect(out[1]).toBeCloseTo(maxP, 12);
        if (minDD === -Infinity) expect(out[2]).toBe(-Infinity);
        else expect(out[2]).toBeCloseTo(minDD, 12);
      }
    }
  });

  it('reports no drawdown for a rising window and -100 % after a wipe-out', () => {
    const tree = new DrawdownTree(4);
    const out = new Float64Array(3);
    [0.01, 0.02, 0, 0.03].forEach((r, i) => tree.set(i, Math.log1p(r)));
    tree.query(0, 4, 4, out);
    expect(out[2]).toBe(0);
    tree.set(2, Math.log1p(-1));
    tree.query(0, 4, 4, out);
    expect(Math.expm1(out[2]!)).toBe(-1);
    expect(Math.expm1(out[0]!)).toBe(-1);
  });
});
