import type { AlertEvent } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { alertBreakdown, monthlyReturns, recommendations } from './report-analysis.js';

describe('monthly returns', () => {
  it('compounds the returns of each UTC month and the year', () => {
    const d = (iso: string) => Date.parse(iso);
    const m = monthlyReturns([
      { ts: d('2026-01-05T00:00:00Z'), ret: 0.1 },
      { ts: d('2026-01-06T00:00:00Z'), ret: 0.1 },
      { ts: d('2026-03-01T00:00:00Z'), ret: -0.5 },
    ]);
    expect(m).toHaveLength(1);
    expect(m[0]!.months[0]).toBeCloseTo(0.21);
    expect(m[0]!.months[1]).toBeNull();
    expect(m[0]!.months[2]).toBeCloseTo(-0.5);
    expect(m[0]!.total).toBeCloseTo(1.21 * 0.5 - 1);
  });
});

function event(id: string, state: AlertEvent['state'], at: number, ackAt?: number): AlertEvent {
  return {
    incidentId: id,
    rule: 'var_exceeded',
    level: 'critical',
    subject: 'strategy/s',
    state,
    value: 0.2,
    threshold: 0.15,
    metric: 'valueAtRisk',
    message: 'm',
    recommendation: 'reduce risk',
    startsAt: 1000,
    endsAt: null,
    ts: at,
    ...(ackAt !== undefined ? { acknowledged: { by: 'x', at: ackAt } } : {}),
  };
}

describe('alert breakdown', () => {
  it('counts incidents once and times the first acknowledgement from the start', () => {
    const rows = alertBreakdown([
      event('i1', 'firing', 1000),
      event('i1', 'resolved', 5000, 61_000),
      event('i2', 'firing', 1000),
      event('i3', 'pending', 1000),
    ]);
    expect(rows).toEqual([
      {
        rule: 'var_exceeded',
        level: 'critical',
        fired: 2,
        acknowledged: 1,
        medianAckMs: 60_000,
        maxAckMs: 60_000,
      },
    ]);
    expect(recommendations([event('i1', 'firing', 1000)])).toEqual([
      { rule: 'var_exceeded', level: 'critical', text: 'reduce risk' },
    ]);
  });
});
