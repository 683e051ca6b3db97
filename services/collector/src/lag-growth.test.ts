import { describe, expect, it } from 'vitest';
import { LagGrowth, STILL_READINGS } from './lag-growth.js';

describe('consumer lag growth', () => {
  it('counts how long a lag has kept rising and resets at a fall or at zero', () => {
    const g = new LagGrowth();
    g.observe('a', 0, 0);
    g.observe('a', 5, 1000);
    g.observe('a', 9, 2000);
    g.observe('a', 9, 3000); // steady: still the same run
    g.observe('a', 20, 6000);
    expect(g.longestSeconds(6000)).toBe(5);
    g.observe('a', 12, 7000); // fell: the consumer is catching up
    expect(g.longestSeconds(7000)).toBe(0);
    g.observe('a', 15, 8000);
    g.observe('a', 0, 9000);
    expect(g.longestSeconds(9000)).toBe(0);
  });

  it('answers the longest run over groups and forgets groups no longer read', () => {
    const g = new LagGrowth();
    for (const [name, at] of [
      ['a', 0],
      ['b', 0],
    ] as const)
      g.observe(name, 1, at);
    g.observe('a', 2, 1000);
    g.observe('b', 2, 4000);
    expect(g.longestSeconds(10_000)).toBe(9);
    g.keepOnly(new Set(['b']));
    expect(g.longestSeconds(10_000)).toBe(6);
  });

  it('does not count a small steady lag as growth (a healthy consumer read mid-flight)', () => {
    // npm start's demo: the alerter's group trails the head by 1-2 entries at every reading.
    const g = new LagGrowth();
    const lags = [
      ...[0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], // 70 s at 1, as XINFO GROUPS showed
      ...[2, 2, 2, 1, 1, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1],
    ];
    let worst = 0;
    lags.forEach((lag, i) => {
      g.observe('alerter', lag, i * 5000);
      worst = Math.max(worst, g.longestSeconds(i * 5000));
    });
    expect(worst).toBeLessThan(60);
    expect(worst).toBeLessThanOrEqual(5 * STILL_READINGS);
  });

  it('still counts a consumer that stopped while entries arrive every other reading', () => {
    const g = new LagGrowth();
    for (let i = 0; i <= 14; i++) g.observe('scorer', Math.floor(i / 2), i * 5000);
    // Rises at 10 s, 20 s, ... 70 s, level in between: one run from 10 s.
    expect(g.longestSeconds(70_000)).toBe(60);
  });
});
