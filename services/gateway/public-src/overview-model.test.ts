import { METRIC_NAMES, type ScoreUpdate, type StrategyMetrics } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { alertCounts, ageText, lastSampleCell, visibleOrder, type Row } from './overview-model.js';

const NOW = 1_767_225_600_000;
function row(id: string, risk: number, sharpe: number | null, opts: Partial<Row> = {}): Row {
  const metrics = Object.fromEntries(METRIC_NAMES.map((n) => [n, null])) as StrategyMetrics;
  metrics.sharpeRatio = sharpe;
  metrics.valueAtRisk = -risk / 1000;
  const u: ScoreUpdate = {
    strategy: id,
    id: `${id}-1`,
    ts: NOW - 1000,
    sampleEntryId: '1-0',
    count: 30,
    metrics,
    scores: { performance: 50, risk, stability: 90 },
    status: { performance: 'GOOD', risk: risk > 50 ? 'HIGH' : 'LOW', stability: 'STABLE' },
    weightDrift: null,
    receivedAt: NOW,
    computedAt: NOW,
  };
  return { id, u, alerts: { critical: 0, warning: 0, info: 0 }, risk: [risk], ...opts };
}

describe('strategies overview model', () => {
  const rows = [
    row('b', 60, 1.2),
    row('a', 20, null),
    row('c', 60, -0.4, { alerts: { critical: 1, warning: 0, info: 0 } }),
    row('old', 10, 0.5),
  ];
  rows[3]!.u = { ...rows[3]!.u, ts: NOW - 3_600_000 };
  const view = { text: '', status: 'all' as const, sort: 'risk' as const, descending: true };

  it('sorts by any column, ties by id, unmeasured values last in either direction', () => {
    expect(visibleOrder(rows, view, NOW).map((r) => r.id)).toEqual(['b', 'c', 'a', 'old']);
    const sharpe = { ...view, sort: 'sharpe' as const };
    expect(visibleOrder(rows, sharpe, NOW).map((r) => r.id)).toEqual(['b', 'old', 'c', 'a']);
    expect(visibleOrder(rows, { ...sharpe, descending: false }, NOW).map((r) => r.id)).toEqual([
      'c',
      'old',
      'b',
      'a',
    ]);
    // Losses by magnitude: the deepest VaR first.
    expect(visibleOrder(rows, { ...view, sort: 'var' }, NOW)[0]?.id).toBe('b');
    expect(visibleOrder(rows, { ...view, sort: 'strategy', descending: false }, NOW)[0]?.id).toBe(
      'a',
    );
  });

  it('filters by text and by status', () => {
    expect(visibleOrder(rows, { ...view, text: 'OL' }, NOW).map((r) => r.id)).toEqual(['old']);
    expect(visibleOrder(rows, { ...view, status: 'critical' }, NOW).map((r) => r.id)).toEqual([
      'c',
    ]);
    expect(visibleOrder(rows, { ...view, status: 'high-risk' }, NOW).map((r) => r.id)).toEqual([
      'b',
      'c',
    ]);
    expect(visibleOrder(rows, { ...view, status: 'stale' }, NOW).map((r) => r.id)).toEqual(['old']);
    expect(visibleOrder(rows, { ...view, status: 'ok' }, NOW).map((r) => r.id)).toEqual(['a']);
  });

  it('counts active alerts per strategy and level, leaving muted ones out', () => {
    const base = {
      rule: 'r',
      state: 'firing' as const,
      value: 1,
      threshold: 0,
      metric: 'm',
      message: '',
      recommendation: '',
      startsAt: NOW,
      endsAt: null,
      ts: NOW,
    };
    const counts = alertCounts([
      { ...base, incidentId: 'i1', level: 'critical', subject: 'strategy/a' },
      { ...base, incidentId: 'i2', level: 'warning', subject: 'strategy/a' },
      {
        ...base,
        incidentId: 'i3',
        level: 'warning',
        subject: 'strategy/a',
        silenced: { id: 's', endsAt: NOW },
      },
      { ...base, incidentId: 'i4', level: 'warning', subject: 'host/h1' },
    ]);
    expect([...counts]).toEqual([['a', { critical: 1, warning: 1, info: 0 }]]);
    expect(ageText(5_000)).toBe('5 s');
    expect(ageText(600_000)).toBe('10 min');
    expect(ageText(5 * 3_600_000)).toBe('5 h');
  });

  it('says a latest sample ahead of the clock is ahead, and flags it as it flags a stale one', () => {
    expect(lastSampleCell(NOW, NOW - 5_000)).toEqual(['5 s', '']);
    expect(lastSampleCell(NOW, NOW - 600_000)).toEqual(['10 min', 'stale']);
    expect(lastSampleCell(NOW, NOW + 30_000)).toEqual(['0 s', '']); // clock skew
    expect(lastSampleCell(NOW, NOW + 5 * 3_600_000)).toEqual(['in 5 h', 'stale']);
  });
});
