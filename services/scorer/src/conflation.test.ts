import { fromMetricValue, METRIC_NAMES, type StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const sample = (strategy: string, i: number, r: number): StrategySample => ({
  strategy,
  ts: 1_700_000_000_000 + i * 1000,
  return: r,
  benchmarkReturn: r / 2 + 0.001,
  receivedAt: 1_700_000_000_000 + i * 1000,
});

const options = { ...DEFAULT_METRICS_OPTIONS, window: 30 };

/** A crash inside a batch: the worst VaR and drawdown happen mid-batch, then recover. */
const returns = [
  ...Array.from({ length: 40 }, (_, i) => Math.sin(i) / 100),
  -0.2,
  -0.15,
  0.3,
  0.25,
  0.02,
];

describe('ScorerCore.applyBatch (conflation)', () => {
  it('writes one update per strategy: the latest state, with the extremes of every sample in between', () => {
    const entries = returns.flatMap((r, i) => [
      { id: `${i + 1}-0`, value: sample('a', i, r) },
      { id: `${i + 1}-1`, value: sample('b', i, -r) },
    ]);
    const perSample = new ScorerCore(options);
    const each = entries.map((e) => perSample.apply(e.id, e.value, 7)!);
    const batched = new ScorerCore(options);
    const { updates, duplicates } = batched.applyBatch(entries, 7);

    expect(duplicates).toBe(0);
    expect(updates.map((u) => u.strategy)).toEqual(['a', 'b']); // ordered by latest sample
    for (const u of updates) {
      const mine = each.filter((x) => x.strategy === u.strategy);
      const last = mine.at(-1)!;
      const { span, ...rest } = u;
      expect(rest).toEqual(last);
      expect(span).toMatchObject({
        samples: returns.length,
        firstEntryId: mine[0]!.sampleEntryId,
        firstCount: 1,
      });
      for (const name of METRIC_NAMES) {
        const finite = mine.map((x) => fromMetricValue(x.metrics[name])).filter(Number.isFinite);
        if (finite.length === 0) {
          expect(span!.low[name]).toBeUndefined();
          continue;
        }
        expect(span!.low[name]).toBe(Math.min(...finite));
        expect(span!.high[name]).toBe(Math.max(...finite));
      }
      const risks = mine.map((x) => x.scores.risk);
      expect(span!.low['scores.risk']).toBe(Math.min(...risks));
      expect(span!.high['scores.risk']).toBe(Math.max(...risks));
    }
    // The crash's drawdown is the worst the span saw, deeper than the latest state's.
    const a = updates[0]!;
    expect(a.span!.low.currentDrawdown).toBeLessThan(fromMetricValue(a.metrics.currentDrawdown));
  });

  it('gives a strategy with one sample in the batch a plain update, and skips redeliveries', () => {
    const core = new ScorerCore(options);
    core.applyBatch([{ id: '1-0', value: sample('a', 0, 0.01) }], 1);
    const { updates, duplicates } = core.applyBatch(
      [
        { id: '1-0', value: sample('a', 0, 0.01) },
        { id: '2-0', value: sample('a', 1, 0.02) },
      ],
      2,
    );
    expect(duplicates).toBe(1);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ sampleEntryId: '2-0', count: 2 });
    expect(updates[0]!.span).toBeUndefined();
  });

  it('leaves every window where per-sample application leaves it, whatever the batch size', () => {
    const entries = returns.map((r, i) => ({ id: `${i + 1}-0`, value: sample('a', i, r) }));
    const one = new ScorerCore(options);
    for (const e of entries) one.apply(e.id, e.value, 0);
    const expected = one.apply('99-0', sample('a', 99, 0), 0)!;
    for (const size of [2, 7, 45]) {
      const core = new ScorerCore(options);
      for (let i = 0; i < entries.length; i += size) core.applyBatch(entries.slice(i, i + size), 0);
      // The next sample's update is the same as if every sample had been applied alone.
      expect(core.apply('99-0', sample('a', 99, 0), 0)).toEqual(expected);
    }
  });
});
