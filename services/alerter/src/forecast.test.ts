import { describe, expect, it } from 'vitest';
import { describeHorizon, Forecaster, TrendWindow, type ForecastPolicy } from './forecast.js';

/** Ordinary least squares from scratch, the reference for the incremental sums. */
function fitFromScratch(points: readonly [number, number][]): { slope: number; atLatest: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  const slope = sxy / sxx;
  return { slope, atLatest: my + slope * (points[n - 1]![0] - mx) };
}

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const periods = (window: number, horizon: number, minPoints = window): ForecastPolicy => ({
  window,
  minPoints,
  axis: 'periods',
  horizon,
});

describe('TrendWindow', () => {
  it('matches a full recompute at every step, on epoch-ms x values, across many rebuilds', () => {
    const r = rng(7);
    const w = new TrendWindow(25);
    const all: [number, number][] = [];
    let x = 1_700_000_000_000;
    for (let i = 0; i < 2000; i++) {
      x += 1 + Math.floor(r() * 5000);
      const y = Math.sin(i / 40) * 0.1 + (r() - 0.5) * 0.02;
      w.push(x, y);
      all.push([x, y]);
      const expected = fitFromScratch(all.slice(-25));
      if (all.length < 2) {
        expect(w.fit()).toBeUndefined();
        continue;
      }
      const got = w.fit()!;
      expect(got.points).toBe(Math.min(all.length, 25));
      // Values of about 0.1 over x spans of 10^5 ms: agreement to 1e-8 is far
      // below anything a threshold distinguishes, and drift would exceed it.
      expect(Math.abs(got.slope - expected.slope)).toBeLessThan(1e-13);
      expect(Math.abs(got.atLatest - expected.atLatest)).toBeLessThan(1e-8);
    }
  });

  it('projects an exact line exactly, as predict_linear does', () => {
    const w = new TrendWindow(10);
    for (let i = 0; i < 30; i++) w.push(i, 0.5 - 0.01 * i);
    // Latest x 29 (0.21); 20 ahead: 0.01.
    expect(w.predict(20)).toBeCloseTo(0.01, 12);
  });

  it('fits nothing from one point or from points that share one x', () => {
    const w = new TrendWindow(4);
    expect(w.predict(1)).toBeUndefined();
    w.push(5, 1);
    expect(w.predict(1)).toBeUndefined();
    w.push(5, 2);
    w.push(5, 3);
    expect(w.fit()).toBeUndefined();
  });

  it('refuses a window that cannot hold a line', () => {
    expect(() => new TrendWindow(1)).toThrow(/2 or more points/);
  });
});

describe('Forecaster', () => {
  it('waits for minPoints, then projects horizon periods past the latest point', () => {
    const f = new Forecaster();
    const p = periods(5, 10);
    const out: (number | undefined)[] = [];
    for (let i = 1; i <= 6; i++) {
      out.push(f.project('r|strategy/a', p, { entryId: `${i}-0`, value: i, ts: i, samples: 1 }));
    }
    expect(out.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(out[4]).toBeCloseTo(15, 10);
    expect(out[5]).toBeCloseTo(16, 10);
  });

  it('counts every sample a conflated update covers on the periods axis', () => {
    const f = new Forecaster();
    const p = periods(3, 1);
    // The value falls 1 per sample; updates cover 1, 4 and 2 samples.
    f.project('k', p, { entryId: '1-0', value: -1, ts: 1, samples: 1 });
    f.project('k', p, { entryId: '2-0', value: -5, ts: 2, samples: 4 });
    const v = f.project('k', p, { entryId: '3-0', value: -7, ts: 3, samples: 2 });
    // Points at x = 1, 5, 7: the line is y = -x, one period past 7 is -8.
    expect(v).toBeCloseTo(-8, 10);
  });

  it('adds nothing for a redelivered entry and projects the window as it stands', () => {
    const f = new Forecaster();
    const p = periods(3, 1);
    f.project('k', p, { entryId: '1-0', value: 1, ts: 1, samples: 1 });
    f.project('k', p, { entryId: '2-0', value: 2, ts: 2, samples: 1 });
    const first = f.project('k', p, { entryId: '3-0', value: 3, ts: 3, samples: 1 });
    const again = f.project('k', p, { entryId: '3-0', value: 3, ts: 3, samples: 1 });
    const older = f.project('k', p, { entryId: '2-0', value: 99, ts: 2, samples: 1 });
    expect(first).toBeCloseTo(4, 10);
    expect(again).toBe(first);
    expect(older).toBe(first);
  });

  it('reads the time axis in milliseconds and restarts the window when time goes backwards', () => {
    const f = new Forecaster();
    const p: ForecastPolicy = { window: 3, minPoints: 2, axis: 'time', horizon: 60_000 };
    f.project('k', p, { entryId: '1-0', value: 0, ts: 0, samples: 1 });
    // +1 per minute: a minute past the latest (x = 60 000) reads 2.
    expect(f.project('k', p, { entryId: '2-0', value: 1, ts: 60_000, samples: 1 })).toBeCloseTo(2);
    expect(f.project('k', p, { entryId: '3-0', value: 5, ts: 30_000, samples: 1 })).toBeUndefined();
  });

  it('starts over when the rule changes its forecast, and drops rules removed', () => {
    const f = new Forecaster();
    for (let i = 1; i <= 3; i++) {
      f.project('a|s', periods(3, 1), { entryId: `${i}-0`, value: i, ts: i, samples: 1 });
      f.project('b|s', periods(3, 1), { entryId: `${i}-0`, value: i, ts: i, samples: 1 });
    }
    expect(
      f.project('a|s', periods(4, 1), { entryId: '4-0', value: 4, ts: 4, samples: 1 }),
    ).toBeUndefined();
    f.retain((k) => k.startsWith('a|'));
    expect(f.size).toBe(1);
  });

  it('describes its horizon for messages', () => {
    expect(describeHorizon(periods(3, 20))).toBe('20 periods');
    expect(describeHorizon({ ...periods(3, 600_000), axis: 'time' })).toBe('10 min');
    expect(describeHorizon({ ...periods(3, 1500), axis: 'time' })).toBe('1500 ms');
  });
});
