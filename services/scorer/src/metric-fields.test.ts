import { METRIC_NAMES, toMetricValue } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { metricRow, wireMetrics } from './metric-fields.js';
import { blankMetricValues } from './metrics/rolling-metrics.js';

/** Every metric a different number: its position in METRIC_NAMES, plus one. */
function numbered() {
  const v = blankMetricValues();
  METRIC_NAMES.forEach((n, i) => (v[n] = i + 1));
  return v;
}

describe('the metrics read out by name', () => {
  it('puts each metric at its place in METRIC_NAMES (metricRow)', () => {
    const row = new Float64Array(METRIC_NAMES.length);
    metricRow(numbered(), row);
    expect(Array.from(row)).toEqual(METRIC_NAMES.map((_, i) => i + 1));
  });

  it('carries every metric under its name, in METRIC_NAMES order, as the wire has it (wireMetrics)', () => {
    const v = numbered();
    v.sharpeRatio = Number.NaN;
    v.calmarRatio = Infinity;
    v.tailRatio = -Infinity;
    const wire = wireMetrics(v);
    expect(Object.keys(wire)).toEqual([...METRIC_NAMES]);
    expect(wire).toEqual(Object.fromEntries(METRIC_NAMES.map((n) => [n, toMetricValue(v[n])])));
    expect([wire.sharpeRatio, wire.calmarRatio, wire.tailRatio]).toEqual([
      null,
      'Infinity',
      '-Infinity',
    ]);
  });
});
