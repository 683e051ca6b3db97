import {
  compileCatalogue,
  fromMetricValue,
  METRIC_NAMES,
  ScoreUpdate,
  type MetricValues,
  type StrategyMetrics,
  type StrategySample,
} from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { computeMetrics, DEFAULT_METRICS_OPTIONS, type MetricsOptions } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const T0 = 1_767_225_600_000;
const MINUTE = 60_000;
const sample = (strategy: string, i: number, r: number, b?: number): StrategySample => ({
  strategy,
  ts: T0 + i * MINUTE,
  return: r,
  ...(b !== undefined ? { benchmarkReturn: b } : {}),
  receivedAt: T0 + i * MINUTE,
});
// Deterministic, irregular returns with a benchmark that co-moves.
const ret = (i: number): number => Math.sin(i * 1.7) / 80 + Math.cos(i * 0.31) / 300;
const bench = (i: number): number => Math.sin(i * 1.7 + 0.4) / 90;

/** Every metric of an update against the batch reference: relative 1e-9 (the engine's bound). */
function expectMetrics(got: StrategyMetrics, want: MetricValues): void {
  for (const n of METRIC_NAMES) {
    const g = fromMetricValue(got[n]);
    const w = want[n];
    if (!Number.isFinite(w)) expect(g, n).toBe(w);
    else expect(Math.abs(g - w), n).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
  }
}

describe('several windows per strategy', () => {
  const catalogue = compileCatalogue({
    strategies: {
      'fx-*': { interval: '1m', window: 250, windows: [20, 60, { name: 'hour', time: '1h' }] },
    },
  });
  const opts = (window: number): MetricsOptions => ({
    ...DEFAULT_METRICS_OPTIONS,
    periodsPerYear: 98_280,
    window,
  });

  it('gives each window the full metric set a batch run over the same slice gives', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, catalogue);
    const n = 400;
    const r = Array.from({ length: n }, (_, i) => ret(i));
    const b = Array.from({ length: n }, (_, i) => bench(i));
    let last: ScoreUpdate | null = null;
    for (let i = 0; i < n; i++) {
      last = core.apply(`${i + 1}-0`, sample('fx-eurusd', i, r[i]!, b[i]), T0);
      // Checked along the way too: while windows fill and once they slide.
      if (i === 10 || i === 59 || i === 100 || i === n - 1) {
        const at = i + 1;
        const slice = (w: number): [number[], number[]] => [
          r.slice(Math.max(0, at - w), at),
          b.slice(Math.max(0, at - w), at),
        ];
        expectMetrics(last!.metrics, computeMetrics(...slice(250), opts(250)));
        expectMetrics(last!.windows!['20']!.metrics, computeMetrics(...slice(20), opts(20)));
        expectMetrics(last!.windows!['60']!.metrics, computeMetrics(...slice(60), opts(60)));
        // 1h of one-minute samples: the samples with ts >= latest - 1h, i.e. the last 61.
        expectMetrics(last!.windows!['hour']!.metrics, computeMetrics(...slice(61), opts(61)));
        expect(last!.windows!['20']!.count).toBe(Math.min(at, 20));
        expect(last!.windows!['hour']!.count).toBe(Math.min(at, 61));
      }
    }
    expect(Object.keys(last!.windows!)).toEqual(['20', '60', 'hour']);
    expect(last!.params).toMatchObject({ periodsPerYear: 98_280, window: 250 });
    // The update stays valid against the shared schema.
    expect(ScoreUpdate.safeParse(last).success).toBe(true);
  });

  it('leaves a strategy outside the catalogue exactly as before: no windows, tags or params', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, catalogue);
    const plain = new ScorerCore(DEFAULT_METRICS_OPTIONS);
    let a: ScoreUpdate | null = null;
    let b: ScoreUpdate | null = null;
    for (let i = 0; i < 30; i++) {
      a = core.apply(`${i + 1}-0`, sample('rates-1', i, ret(i)), 5);
      b = plain.apply(`${i + 1}-0`, sample('rates-1', i, ret(i)), 5);
    }
    expect(a).toEqual(b);
    expect(Object.keys(a!)).not.toContain('windows');
    expect(Object.keys(a!)).not.toContain('params');
    expect(Object.keys(a!)).not.toContain('tags');
  });

  it('on a catalogue change empties only the strategies whose parameters changed, and a replay rebuilds them', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, catalogue);
    const n = 120;
    for (let i = 0; i < n; i++) {
      core.apply(`${2 * i + 1}-0`, sample('fx-a', i, ret(i)), 0);
      core.apply(`${2 * i + 2}-0`, sample('eq-b', i, ret(i + 7)), 0);
    }
    const next = compileCatalogue({
      strategies: {
        'fx-*': { interval: '1m', window: 250, windows: [20, 60, { name: 'hour', time: '1h' }] },
        'eq-*': { tags: { desk: 'equities' } },
        'fx-a': { periodsPerYear: 252, windows: [30] },
      },
    });
    const changed = core.setCatalogue(next);
    expect(changed.map((c) => c.strategy)).toEqual(['fx-a']);
    expect(changed[0]!.reason).toMatch(/periodsPerYear 98280 -> 252/);
    expect(changed[0]!.reason).toMatch(/windows 20,60,hour -> 30/);
    expect(core.windowNeeds('fx-a')).toEqual([{ count: 250 }, { count: 30 }]);
    // The replay (replay.ts reads these from the stream): the strategy's samples, oldest first.
    for (let i = 0; i < n; i++) core.restore(`${2 * i + 1}-0`, sample('fx-a', i, ret(i)));
    core.markRebuilt('fx-a', changed[0]!.reason, n, 99);
    const u = core.apply(`${2 * n + 1}-0`, sample('fx-a', n, ret(n)), 100)!;
    const r = Array.from({ length: n + 1 }, (_, i) => ret(i));
    const daily = { ...DEFAULT_METRICS_OPTIONS, window: 250 };
    expectMetrics(u.metrics, computeMetrics(r, undefined, daily));
    expectMetrics(u.windows!['30']!.metrics, computeMetrics(r.slice(-30), undefined, daily));
    expect(u.rebuilt).toEqual({ at: 99, reason: changed[0]!.reason, samples: n });
    // Said once: the next update no longer carries it.
    expect(core.apply(`${2 * n + 3}-0`, sample('fx-a', n + 1, 0), 101)!.rebuilt).toBeUndefined();
    // eq-b kept its window and took its new tags.
    const e = core.apply(`${2 * n + 2}-0`, sample('eq-b', n, ret(n + 7)), 100)!;
    expect(e.count).toBe(n + 1);
    expect(e.tags).toEqual({ desk: 'equities' });
  });
});

describe('wireMetrics', () => {
  it('puts every metric on the wire in METRIC_NAMES order, as toMetricValue does', async () => {
    const { wireMetrics } = await import('./strategy-windows.js');
    const { toMetricValue } = await import('@quantmon/shared');
    const v = Object.fromEntries(
      METRIC_NAMES.map((n, i) => [n, i % 3 === 0 ? NaN : i % 5 === 0 ? -Infinity : i / 7]),
    ) as MetricValues;
    const wire = wireMetrics(v);
    expect(Object.keys(wire)).toEqual([...METRIC_NAMES]);
    for (const n of METRIC_NAMES) expect(wire[n]).toEqual(toMetricValue(v[n]));
  });
});
