import { METRIC_NAMES, SPAN_FIELDS, type MetricValues } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { blankMetricValues } from './metrics/rolling-metrics.js';
import { SpanExtremes } from './span.js';

/** Every metric a different number: its position in METRIC_NAMES, plus one. */
function numbered(): MetricValues {
  const v = blankMetricValues();
  METRIC_NAMES.forEach((n, i) => (v[n] = i + 1));
  return v;
}

const scores = { performance: 10, risk: 20, stability: 30 };

describe('the extremes of a batch (SpanExtremes)', () => {
  it('keeps the lowest and highest finite value of every field, by its name', () => {
    const span = new SpanExtremes('5-0', 40);
    const a = numbered();
    const b = numbered();
    b.sharpeRatio = -3;
    b.valueAtRisk = 99;
    span.fold(a, scores, 0.5);
    span.fold(b, { ...scores, risk: 25 }, null);
    const s = span.toSpan();
    expect(s.samples).toBe(2);
    expect(s.firstEntryId).toBe('5-0');
    expect(s.firstCount).toBe(40);
    expect(Object.keys(s.low)).toEqual(SPAN_FIELDS);
    expect(s.low.sharpeRatio).toBe(-3);
    expect(s.high.sharpeRatio).toBe(METRIC_NAMES.indexOf('sharpeRatio') + 1);
    expect(s.low.valueAtRisk).toBe(METRIC_NAMES.indexOf('valueAtRisk') + 1);
    expect(s.high.valueAtRisk).toBe(99);
    expect([s.low['scores.risk'], s.high['scores.risk']]).toEqual([20, 25]);
    // A sample without a drift leaves the drift's bounds alone.
    expect([s.low.weightDrift, s.high.weightDrift]).toEqual([0.5, 0.5]);
  });

  it('ignores NaN and infinities, and leaves out a field never finite', () => {
    const span = new SpanExtremes('1-0', 0);
    const v = numbered();
    v.calmarRatio = Infinity;
    v.omegaRatio = Number.NaN;
    v.tailRatio = -Infinity;
    span.fold(v, scores, null);
    v.calmarRatio = -Infinity;
    v.tailRatio = 2;
    span.fold(v, scores, null);
    const s = span.toSpan();
    expect(s.low.calmarRatio).toBeUndefined();
    expect(s.high.calmarRatio).toBeUndefined();
    expect(s.low.omegaRatio).toBeUndefined();
    expect([s.low.tailRatio, s.high.tailRatio]).toEqual([2, 2]);
    expect(s.low.weightDrift).toBeUndefined();
    expect(Object.keys(s.high)).not.toContain('weightDrift');
  });
});
