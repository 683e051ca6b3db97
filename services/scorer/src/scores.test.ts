import { METRIC_NAMES, type MetricValues } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { computeScores, scoreStatus } from './scores.js';

const metrics = (over: Partial<MetricValues>): MetricValues =>
  ({ ...Object.fromEntries(METRIC_NAMES.map((n) => [n, NaN])), ...over }) as MetricValues;

describe('computeScores', () => {
  it('follows the docs/architecture.md formulas term by term', () => {
    const s = computeScores(
      metrics({
        sharpeRatio: 1.5,
        informationRatio: 1,
        winRate: 0.6,
        annualVolatility: 0.2,
        maxDrawdown: -0.1,
        valueAtRisk: -0.03,
        trackingError: 0.1,
        correlation: 0.4,
      }),
    );
    expect(s.performance).toBeCloseTo(30 + 15 + 18, 12);
    expect(s.risk).toBeCloseTo(20 + 10 + 3, 12);
    expect(s.stability).toBeCloseTo(40 + 30, 12);
  });

  it('clamps each term to its cap', () => {
    const s = computeScores(
      metrics({
        sharpeRatio: 9,
        informationRatio: 9,
        winRate: 1,
        annualVolatility: 3,
        maxDrawdown: -0.9,
        valueAtRisk: -0.5,
        trackingError: 2,
        correlation: -1,
      }),
    );
    expect(s).toEqual({ performance: 100, risk: 100, stability: 0 });
  });

  it('lets undefined metrics contribute nothing instead of NaN', () => {
    const s = computeScores(metrics({}));
    expect(s).toEqual({ performance: 0, risk: 0, stability: 100 });
  });

  it('treats an infinite Sharpe as the full 40 points', () => {
    expect(computeScores(metrics({ sharpeRatio: Infinity })).performance).toBe(40);
    expect(computeScores(metrics({ sharpeRatio: -Infinity })).performance).toBe(0);
  });
});

describe('scoreStatus', () => {
  it('uses the documented bands', () => {
    expect(scoreStatus({ performance: 70.1, risk: 29.9, stability: 80.1 })).toEqual({
      performance: 'EXCELLENT',
      risk: 'LOW',
      stability: 'STABLE',
    });
    expect(scoreStatus({ performance: 70, risk: 30, stability: 80 })).toEqual({
      performance: 'GOOD',
      risk: 'MODERATE',
      stability: 'UNSTABLE',
    });
    expect(scoreStatus({ performance: 49.9, risk: 50.1, stability: 0 })).toEqual({
      performance: 'NEEDS IMPROVEMENT',
      risk: 'HIGH',
      stability: 'UNSTABLE',
    });
  });
});
