import { describe, expect, it } from 'vitest';
import { computeMetrics } from './batch.js';
import { DEFAULT_METRICS_OPTIONS, type MetricsOptions } from './options.js';
import { ORDER_TREE_MIN_WINDOW, RollingMetrics } from './rolling-metrics.js';
import { metricDifferences } from './testing/close-to.js';
import {
  AWKWARD_MIX,
  generateSeries,
  mulberry32,
  type SeriesMix,
} from './testing/seeded-series.js';

type Obs = number | null;

/**
 * Pushes a series through the engine and, at every step, recomputes the
 * window with the batch reference; returns the first mismatches found.
 */
function firstMismatches(
  returns: readonly Obs[],
  benchmark: readonly Obs[] | undefined,
  opts: MetricsOptions,
): string[] {
  const engine = new RollingMetrics(opts);
  const found: string[] = [];
  for (let i = 0; i < returns.length && found.length < 5; i++) {
    engine.push(returns[i] ?? null, benchmark?.[i] ?? null, i);
    const lo = Math.max(0, i + 1 - opts.window);
    const expected = computeMetrics(returns.slice(lo, i + 1), benchmark?.slice(lo, i + 1), opts);
    expect(engine.count).toBe(i + 1 - lo);
    for (const d of metricDifferences(engine.values(), expected)) found.push(`step ${i}: ${d}`);
  }
  return found;
}

const MIXES: Record<string, SeriesMix> = {
  awkward: AWKWARD_MIX,
  'frequent wipeouts and gaps': {
    missing: 0.2,
    zero: 0.15,
    wipeout: 0.05,
    constantRun: 0.03,
    benchmarkMissing: 0.2,
  },
  'long constant runs': {
    missing: 0.02,
    zero: 0.02,
    wipeout: 0,
    constantRun: 0.2,
    benchmarkMissing: 0.02,
  },
  clean: { missing: 0, zero: 0, wipeout: 0, constantRun: 0, benchmarkMissing: 0 },
};

const OPTION_SETS: Partial<MetricsOptions>[] = [
  {},
  { riskFree: 0.0001, requiredReturn: 0.002, varCutoff: 0.1, periodsPerYear: 52 },
];

describe('RollingMetrics equals the batch recompute of its window at every step', () => {
  for (const window of [2, 10, 1000]) {
    const length = window === 1000 ? 2500 : 1500;
    for (const [mixName, mix] of Object.entries(MIXES)) {
      it(`window ${window}, ${mixName} series`, () => {
        OPTION_SETS.forEach((overrides, k) => {
          const seed = window * 7919 + k * 104729 + mixName.length;
          const { returns, benchmark } = generateSeries(seed, length, mix);
          const opts = { ...DEFAULT_METRICS_OPTIONS, ...overrides, window };
          expect(firstMismatches(returns, benchmark, opts)).toEqual([]);
        });
      });
    }
  }

  it('gives NaN for every benchmark-relative metric without a benchmark', () => {
    const { returns } = generateSeries(5, 300, AWKWARD_MIX);
    const opts = { ...DEFAULT_METRICS_OPTIONS, window: 10 };
    expect(firstMismatches(returns, undefined, opts)).toEqual([]);
    const engine = new RollingMetrics(opts);
    returns.forEach((r, i) => engine.push(r, null, i));
    const v = engine.values();
    for (const m of [
      'beta',
      'alpha',
      'correlation',
      'trackingError',
      'informationRatio',
    ] as const) {
      expect(v[m]).toBeNaN();
    }
  });

  it('handles a constant series: zero volatility, infinite Sharpe, no drawdown', () => {
    const returns = Array.from({ length: 50 }, () => 0.013);
    expect(firstMismatches(returns, returns, { ...DEFAULT_METRICS_OPTIONS, window: 10 })).toEqual(
      [],
    );
    const engine = new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, window: 10 });
    returns.forEach((r, i) => engine.push(r, null, i));
    const v = engine.values();
    expect(v.annualVolatility).toBe(0);
    expect(v.sharpeRatio).toBe(Infinity);
    expect(v.maxDrawdown).toBe(0);
    expect(v.calmarRatio).toBeNaN();
  });

  it('treats a -100 % return as a total loss until it leaves the window', () => {
    const engine = new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, window: 3 });
    [0.1, -1, 0.5].forEach((r, i) => engine.push(r, null, i));
    expect(engine.values().maxDrawdown).toBe(-1);
    expect(engine.values().cumulativeReturn).toBe(-1);
    engine.push(0.2, null, 3); // window [-1, 0.5, 0.2]
    expect(engine.values().maxDrawdown).toBe(-1);
    engine.push(0.1, null, 4); // window [0.5, 0.2, 0.1]
    expect(engine.values().maxDrawdown).toBe(0);
    expect(engine.values().cumulativeReturn).toBeCloseTo(1.5 * 1.2 * 1.1 - 1, 14);
  });

  it('evicts samples older than windowMs as well as beyond the count window', () => {
    const rand = mulberry32(99);
    const { returns, benchmark } = generateSeries(17, 1500, AWKWARD_MIX);
    const opts = { ...DEFAULT_METRICS_OPTIONS, window: 40, windowMs: 30_000 };
    const engine = new RollingMetrics(opts);
    const ts: number[] = [];
    let t = 1_700_000_000_000;
    for (let i = 0; i < returns.length; i++) {
      t += rand() < 0.05 ? 60_000 : Math.floor(rand() * 2_000); // occasional long gaps
      ts.push(t);
      engine.push(returns[i] ?? null, benchmark[i] ?? null, t);
      let lo = Math.max(0, i + 1 - opts.window);
      while (lo <= i && ts[lo]! < t - opts.windowMs) lo++;
      expect(engine.count).toBe(i + 1 - lo);
      const expected = computeMetrics(returns.slice(lo, i + 1), benchmark.slice(lo, i + 1), opts);
      expect(metricDifferences(engine.values(), expected)).toEqual([]);
    }
  });

  it('switches to the order-statistic tree for large windows and still equals the batch', () => {
    const W = ORDER_TREE_MIN_WINDOW;
    const { returns, benchmark } = generateSeries(23, W + 12_000, AWKWARD_MIX);
    const opts = { ...DEFAULT_METRICS_OPTIONS, window: W };
    const engine = new RollingMetrics(opts);
    returns.forEach((r, i) => {
      engine.push(r, benchmark[i] ?? null, i);
      if ((i + 1) % 4000 === 0) {
        const lo = Math.max(0, i + 1 - W);
        const want = computeMetrics(returns.slice(lo, i + 1), benchmark.slice(lo, i + 1), opts);
        expect(metricDifferences(engine.values(), want), `step ${i}`).toEqual([]);
      }
    });
  });

  it('rejects invalid options with the option named', () => {
    expect(() => new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, window: 0 })).toThrow(/window/);
    expect(() => new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, varCutoff: 2 })).toThrow(
      /varCutoff/,
    );
  });
});
