import { describe, expect, it } from 'vitest';
import { computeMetrics } from './batch.js';
import { DEFAULT_METRICS_OPTIONS } from './options.js';
import { RollingMetrics } from './rolling-metrics.js';
import { metricDifferences } from './testing/close-to.js';
import { AWKWARD_MIX, generateSeries } from './testing/seeded-series.js';

/**
 * Long-run drift: after millions of pushes the incremental sums must still
 * agree with a fresh recompute of the window to 1e-9 relative. (The 10 million
 * figure in METRICS.md comes from bench/scorer.ts --drift 10000000.)
 */
describe('RollingMetrics long-run drift', () => {
  it('stays within 1e-9 of the batch recompute over 2 million updates', () => {
    const W = 1000;
    const chunk = 100_000;
    const opts = { ...DEFAULT_METRICS_OPTIONS, window: W };
    const engine = new RollingMetrics(opts);
    for (let c = 0; c < 20; c++) {
      const { returns, benchmark } = generateSeries(1000 + c, chunk, AWKWARD_MIX);
      for (let i = 0; i < chunk; i++) engine.push(returns[i] ?? null, benchmark[i] ?? null, i);
      const expected = computeMetrics(returns.slice(-W), benchmark.slice(-W), opts);
      expect(metricDifferences(engine.values(), expected), `after ${(c + 1) * chunk}`).toEqual([]);
    }
  }, 60_000);
});
