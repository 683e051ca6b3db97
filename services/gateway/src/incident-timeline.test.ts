import type { AlertEvent, AuditEvent, Silence } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { incidentTimeline } from './incident-timeline.js';

const T = 1_767_225_600_000;
const event = (over: Partial<AlertEvent>): AlertEvent => ({
  incidentId: 'var_exceeded-strategy-a-1',
  rule: 'var_exceeded',
  level: 'critical',
  subject: 'strategy/a',
  state: 'firing',
  value: 0.18,
  threshold: 0.15,
  metric: 'valueAtRisk',
  message: 'VaR beyond 15 %',
  recommendation: 'reduce exposure',
  startsAt: T,
  endsAt: null,
  ts: T,
  ...over,
});
const silence = (id: string, value: string, at: number): Silence => ({
  id,
  matchers: [{ name: 'subject', op: '=~', value }],
  startsAt: at,
  endsAt: at + 3_600_000,
  createdBy: 'olga',
  comment: 'hedged',
  createdAt: at,
});

describe('incident timeline', () => {
  it('orders firing, acknowledgement (with the token), silence and resolve, each with who', () => {
    const ack = { by: 'olga', at: T + 5000, tokenName: 'olga-desk' };
    const events = [
      event({ state: 'pending', ts: T - 60_000 }),
      event({}),
      event({ ts: T + 5000, acknowledged: ack, acknowledgements: [ack] }),
      // A redelivered event carrying the same acknowledgement adds nothing.
      event({ ts: T + 6000, acknowledged: ack, acknowledgements: [ack] }),
      event({ state: 'resolved', ts: T + 99_000, endsAt: T + 99_000, value: 0.1 }),
    ];
    const audit: AuditEvent[] = [
      {
        kind: 'silence-created',
        at: T + 10_000,
        by: 'olga',
        silence: silence('s-1', 'strategy/a', T + 10_000),
      },
      // Another strategy's silence is not this incident's.
      {
        kind: 'silence-created',
        at: T + 11_000,
        by: 'kim',
        silence: silence('s-2', 'strategy/b', T + 11_000),
      },
      {
        kind: 'silence-deleted',
        at: T + 20_000,
        by: 'olga',
        silence: silence('s-1', 'strategy/a', T + 10_000),
      },
    ];
    const steps = incidentTimeline(events, audit, new Map());
    expect(steps.map((s) => [s.kind, s.by])).toEqual([
      ['pending', 'alerter'],
      ['firing', 'alerter'],
      ['acknowledged', 'olga (token olga-desk)'],
      ['silenced', 'olga'],
      ['unsilenced', 'olga'],
      ['resolved', 'alerter'],
    ]);
    expect(steps[3]?.detail).toContain('hedged');
  });

  it('takes a silence from its events when the audit does not hold it, with its author from the hash', () => {
    const s = silence('s-9', 'strategy/.*', T);
    const events = [event({}), event({ ts: T + 1000, silenced: { id: 's-9', endsAt: s.endsAt } })];
    const steps = incidentTimeline(events, [], new Map([['s-9', s]]));
    expect(steps.map((x) => [x.kind, x.by])).toEqual([
      ['firing', 'alerter'],
      ['silenced', 'olga'],
    ]);
  });
});
