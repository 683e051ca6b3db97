import type { AlertEvent, InhibitedBy } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INHIBIT } from './default-rules.js';
import { InhibitionIndex, inhibits } from './inhibition.js';
import type { InhibitRule } from './rule-spec.js';

/** An event with what inhibition reads; the rest is filler. */
function event(
  incidentId: string,
  rule: string,
  level: AlertEvent['level'],
  subject: string,
  opts: { state?: AlertEvent['state']; labels?: Record<string, string> } = {},
): AlertEvent {
  return {
    incidentId,
    rule,
    level,
    subject: subject as AlertEvent['subject'],
    state: opts.state ?? 'firing',
    value: 1,
    threshold: 0,
    metric: 'm',
    message: '',
    recommendation: '',
    startsAt: 0,
    endsAt: null,
    ts: 0,
    ...(opts.labels ? { labels: opts.labels } : {}),
  };
}

/** What the index must answer: the first source in order that inhibits under any rule. */
function scan(
  rules: readonly InhibitRule[],
  open: readonly AlertEvent[],
  target: AlertEvent,
): InhibitedBy | undefined {
  const s = open.find((source) => rules.some((r) => inhibits(r, source, target)));
  return s && { incidentId: s.incidentId, rule: s.rule };
}

describe('InhibitionIndex', () => {
  it('finds the source on the same subject, never the target itself, only while it fires', () => {
    const open = [
      event('v-a', 'var_exceeded', 'critical', 'strategy/a'),
      event('v-b', 'var_exceeded', 'critical', 'strategy/b', { state: 'pending' }),
    ];
    const index = new InhibitionIndex(DEFAULT_INHIBIT, open);
    const ddA = event('d-a', 'drawdown_exceeded', 'warning', 'strategy/a');
    expect(index.inhibitorOf(ddA)).toEqual({ incidentId: 'v-a', rule: 'var_exceeded' });
    // b's source is pending: no mark.
    expect(index.inhibitorOf(event('d-b', 'drawdown_exceeded', 'warning', 'strategy/b'))).toBe(
      undefined,
    );
    // A critical drawdown is not a target (level: warning only).
    expect(index.inhibitorOf(event('d-c', 'drawdown_exceeded', 'critical', 'strategy/a'))).toBe(
      undefined,
    );
  });

  it('answers as a scan of the sources in order would, over rules, labels and self', () => {
    // Two rules that can both match one pair, an `equal` on a label some events
    // lack (lacking on both sides counts as equal), and a source that is also a target.
    const rules: InhibitRule[] = [
      { source: { level: 'critical' }, target: { level: 'warning' }, equal: ['desk'] },
      { source: { rule: 'x' }, target: { rule: ['x', 'y'] }, equal: ['subject', 'desk'] },
    ];
    const rulesNames = ['x', 'y', 'z'];
    const levels: AlertEvent['level'][] = ['critical', 'warning', 'info'];
    const desks = [undefined, 'rates', 'fx'];
    const subjects = ['strategy/a', 'strategy/b'];
    // A period of 4 against the 3 rules and 3 levels: every kind of event is firing somewhere.
    const states: AlertEvent['state'][] = ['firing', 'firing', 'pending', 'firing'];
    const all: AlertEvent[] = [];
    let n = 0;
    // Every combination, in an order that puts several sources on one key.
    for (const subject of subjects)
      for (const desk of desks)
        for (const level of levels)
          for (const rule of rulesNames) {
            n++;
            all.push(
              event(`i${n}`, rule, level, subject, {
                state: states[n % states.length]!,
                ...(desk ? { labels: { desk } } : {}),
              }),
            );
          }
    const index = new InhibitionIndex(rules, all);
    let marked = 0;
    for (const target of all) {
      const want = scan(rules, all, target);
      if (want) marked++;
      expect(index.inhibitorOf(target), target.incidentId).toEqual(want);
    }
    // The cases are not all trivially "no inhibitor" nor all the same answer.
    expect(marked).toBeGreaterThan(10);
    expect(marked).toBeLessThan(all.length);
  });

  it('marks nothing without rules', () => {
    const open = [event('v-a', 'var_exceeded', 'critical', 'strategy/a')];
    const index = new InhibitionIndex([], open);
    expect(index.inhibitorOf(event('d-a', 'drawdown_exceeded', 'warning', 'strategy/a'))).toBe(
      undefined,
    );
  });
});
