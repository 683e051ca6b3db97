import type { AlertEvent, Silence } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { SilenceSet } from './silences.js';

const event: AlertEvent = {
  incidentId: 'var_exceeded__strategy-alpha__1-0',
  rule: 'var_exceeded',
  level: 'critical',
  subject: 'strategy/alpha',
  state: 'firing',
  value: 0.2,
  threshold: 0.15,
  metric: 'valueAtRisk',
  message: 'm',
  recommendation: 'r',
  startsAt: 1,
  endsAt: null,
  ts: 1,
  labels: { desk: 'fx' },
};

const silence = (id: string, matchers: Silence['matchers'], endsAt = 2000): Silence => ({
  id,
  matchers,
  startsAt: 1000,
  endsAt,
  createdBy: 't',
  comment: '',
  createdAt: 1000,
});

describe('SilenceSet', () => {
  it('matches by rule, subject regex and label, only while active', () => {
    const set = new SilenceSet([
      silence('s-1', [
        { name: 'rule', value: 'var_exceeded', op: '=' },
        { name: 'subject', value: 'strategy/al.*', op: '=~' },
      ]),
    ]);
    expect(set.match(event, 1500)?.id).toBe('s-1');
    expect(set.match(event, 999)).toBeUndefined();
    expect(set.match(event, 2000)).toBeUndefined();
    expect(set.match({ ...event, subject: 'strategy/beta' }, 1500)).toBeUndefined();
    const byLabel = new SilenceSet([silence('s-2', [{ name: 'desk', value: 'fx', op: '=' }])]);
    expect(byLabel.match(event, 1500)?.id).toBe('s-2');
    const negative = new SilenceSet([
      silence('s-3', [{ name: 'level', value: 'critical', op: '!=' }]),
    ]);
    expect(negative.match(event, 1500)).toBeUndefined();
  });

  it('picks the silence ending last when several match', () => {
    const set = new SilenceSet([
      silence('s-a', [{ name: 'rule', value: 'var_exceeded', op: '=' }], 1800),
      silence('s-b', [{ name: 'level', value: 'crit.*', op: '=~' }], 1900),
    ]);
    expect(set.match(event, 1500)?.id).toBe('s-b');
  });
});

describe('SilenceSet regular expressions (RE2)', () => {
  it('matches a catastrophic-backtracking pattern in linear time', () => {
    // With JavaScript's RegExp this takes seconds at 28 characters and
    // doubles with each more; RE2 answers at once for 20,000.
    const set = new SilenceSet([silence('s-re', [{ name: 'subject', value: '(a+)+', op: '=~' }])]);
    expect(set.match({ ...event, subject: `${'a'.repeat(20_000)}!` }, 1500)).toBeUndefined();
    expect(set.match({ ...event, subject: 'aaaa' }, 1500)?.id).toBe('s-re');
  });

  it('anchors a pattern to the whole value', () => {
    const set = new SilenceSet([silence('s-a', [{ name: 'desk', value: 'f', op: '=~' }])]);
    expect(set.match(event, 1500)).toBeUndefined();
    const alt = new SilenceSet([
      silence('s-b', [{ name: 'level', value: 'info|critical', op: '=~' }]),
    ]);
    expect(alt.match(event, 1500)?.id).toBe('s-b');
  });

  it('treats a stored pattern RE2 refuses as matching nothing', () => {
    const look = new SilenceSet([silence('s-l', [{ name: 'desk', value: '(?=f)fx', op: '=~' }])]);
    expect(look.match(event, 1500)).toBeUndefined();
    const not = new SilenceSet([silence('s-n', [{ name: 'desk', value: '(?=f)fx', op: '!~' }])]);
    expect(not.match(event, 1500)?.id).toBe('s-n');
  });
});
