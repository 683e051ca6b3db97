import {
  compileCatalogue,
  fromMetricValue,
  ScoreUpdate,
  type StrategySample,
} from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const T0 = 1_767_225_600_000;
const sample = (strategy: string, i: number, r: number): StrategySample => ({
  strategy,
  ts: T0 + i * 60_000,
  return: r,
  receivedAt: T0 + i * 60_000,
});

describe('derived metrics in score updates', () => {
  it('carries the catalogue derived metrics, computed from the update the scorer built', () => {
    const catalogue = compileCatalogue({
      strategies: { 'fx-*': { windows: [20] } },
      derived: [
        { name: 'sharpeGap', expression: 'sharpeRatio@20 - sharpeRatio' },
        { name: 'volPerRisk', expression: 'annualVolatility / scores.risk' },
      ],
    });
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, catalogue);
    let u: ScoreUpdate | null = null;
    for (let i = 0; i < 60; i++) {
      u = core.apply(`${i + 1}-0`, sample('fx-1', i, Math.sin(i * 1.3) / 100), T0);
    }
    const last = u!;
    expect(ScoreUpdate.parse(last)).toEqual(last);
    const sharpe = fromMetricValue(last.metrics.sharpeRatio);
    const sharpe20 = fromMetricValue(last.windows!['20']!.metrics.sharpeRatio);
    expect(last.derived!['sharpeGap']).toBeCloseTo(sharpe20 - sharpe, 12);
    const vol = fromMetricValue(last.metrics.annualVolatility);
    expect(last.derived!['volPerRisk']).toBeCloseTo(vol / last.scores.risk, 12);
    // A strategy without the 20-period window: its gap is undefined (null), not an error.
    const other = core.apply('100-0', sample('eq-1', 0, 0.01), T0)!;
    expect(other.derived).toEqual({ sharpeGap: null, volPerRisk: null });
  });

  it('adds nothing when the catalogue defines no derived metric', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, compileCatalogue({}));
    const u = core.apply('1-0', sample('a', 0, 0.01), T0)!;
    expect('derived' in u).toBe(false);
  });
});
