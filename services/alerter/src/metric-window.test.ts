import { METRIC_NAMES, type ScoreUpdate, type StrategyMetrics } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { metricReader, metricSource, spanReader } from './metric-source.js';
import { compileRules, RulesError } from './rules.js';

const metrics = (sharpe: number): StrategyMetrics =>
  ({
    ...Object.fromEntries(METRIC_NAMES.map((n) => [n, null])),
    sharpeRatio: sharpe,
  }) as StrategyMetrics;

const update = (windows?: ScoreUpdate['windows']): ScoreUpdate => ({
  strategy: 'fx-1',
  id: 'a',
  ts: 1,
  sampleEntryId: '1-0',
  count: 500,
  metrics: metrics(1.5),
  scores: { performance: 50, risk: 20, stability: 80 },
  status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
  weightDrift: null,
  receivedAt: 1,
  computedAt: 1,
  ...(windows ? { windows } : {}),
});

describe('rules on a catalogue window (metric@window)', () => {
  it("reads the metric of the update's window by name, judged on the window's own count", () => {
    expect(metricSource('sharpeRatio@60')).toBe('score');
    expect(metricSource('sharpe@60')).toBeUndefined();
    expect(metricSource('sharpeRatio@')).toBeUndefined();
    const read = metricReader('sharpeRatio@60', 'none');
    const u = update({ '60': { count: 60, metrics: metrics(0.2) } });
    expect(read({ kind: 'score', update: u }, 20)).toBe(0.2);
    // Too few observations in the window (the main window's count does not count).
    expect(read({ kind: 'score', update: u }, 61)).toBeUndefined();
    // A strategy without that window is not judged.
    expect(read({ kind: 'score', update: update() }, 1)).toBeUndefined();
    expect(spanReader('sharpeRatio@60', 'none')).toBeUndefined();
  });

  it('lets a rules file watch a window, and names a bad metric', () => {
    const set = compileRules(
      {
        rules: {
          sharpe_decline_60: {
            metric: 'sharpeRatio@60',
            comparison: '<',
            threshold: 0.5,
            level: 'warning',
            subject: 'strategy',
            recommendation: 'Sharpe over the last 60 periods is below 0.5.',
          },
        },
      },
      300_000,
    );
    const rule = set.rules.find((r) => r.name === 'sharpe_decline_60');
    expect(rule?.source).toBe('score');
    const u = update({ '60': { count: 60, metrics: metrics(0.2) } });
    expect(rule?.read({ kind: 'score', update: u }, 20)).toBe(0.2);
    expect(() =>
      compileRules({ rules: { x: { metric: 'sharpe@60', comparison: '<', threshold: 1 } } }, 1),
    ).toThrow(RulesError);
  });
});
