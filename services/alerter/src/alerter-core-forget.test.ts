import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { RETIRED_RULE } from './forget-subject.js';
import { compileRules } from './rules.js';
import { scoreInput, systemInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;
const id = (ms: number): string => `${ms}-0`;
const core = (): AlerterCore =>
  new AlerterCore(compileRules({}, 60_000), 20, new Map(), new Map(), T0);
const states = (ts: Transition[]): string[] => ts.map((t) => `${t.event?.rule}:${t.event?.state}`);

describe('AlerterCore forgetting', () => {
  it('lists as idle only the subjects whose latest input is older than the cutoff', () => {
    const c = core();
    c.observe(scoreInput('old', { valueAtRisk: -0.01 }), id(T0), T0);
    c.observe(scoreInput('new', { valueAtRisk: -0.01 }), id(T0 + 5000), T0 + 5000);
    expect(c.idleSubjects(T0 + 1000)).toEqual(['strategy/old']);
    expect(c.idleSubjects(T0)).toEqual([]);
  });

  it('closes a forgotten subject’s open incidents, saying why, and drops its last-seen time', () => {
    const c = core();
    const [opened] = c.observe(scoreInput('gone', { valueAtRisk: -0.3 }), id(T0), T0);
    expect(opened?.event?.state).toBe('firing');
    c.observe(scoreInput('kept', { valueAtRisk: -0.3 }), id(T0), T0);
    const out = c.forget(new Set(['strategy/gone']), { kind: 'idle', afterMs: 60_000 }, T0 + 1);
    expect(states(out)).toEqual(['var_exceeded:resolved']);
    expect(out[0]).toMatchObject({ kind: 'resolve', expect: opened?.event?.incidentId });
    expect(out[0]?.previous?.firing.incidentId).toBe(opened?.event?.incidentId);
    expect(out[0]?.event?.message).toContain('forgotten after 60 s without data');
    expect([...c.incidents.values()].map((i) => i.firing.subject)).toEqual(['strategy/kept']);
    expect(c.lastSeen.has('strategy/gone')).toBe(false);
    expect(c.lastSeen.has('strategy/kept')).toBe(true);
  });

  it('raises no no-data incident for a forgotten subject, and closes one already open', () => {
    const c = core();
    c.observe(scoreInput('quiet', { valueAtRisk: -0.01 }), id(T0), T0);
    // The default strategy no-data limit is far below a day.
    const nd = c.tick(T0 + 86_400_000);
    expect(states(nd)).toEqual(['no_data:firing']);
    const out = c.forget(
      new Set(['strategy/quiet']),
      { kind: 'idle', afterMs: 1 },
      T0 + 86_400_001,
    );
    expect(states(out)).toEqual(['no_data:resolved']);
    expect(c.tick(T0 + 2 * 86_400_000)).toEqual([]);
  });

  it('starts a returning subject afresh: a new incident id, a new no-data clock', () => {
    const c = core();
    const [first] = c.observe(scoreInput('back', { valueAtRisk: -0.3 }), id(T0), T0);
    c.forget(new Set(['strategy/back']), { kind: 'idle', afterMs: 1 }, T0 + 10);
    const [again] = c.observe(scoreInput('back', { valueAtRisk: -0.3 }), id(T0 + 20), T0 + 20);
    expect(again?.kind).toBe('open');
    expect(again?.event?.incidentId).not.toBe(first?.event?.incidentId);
    expect(c.lastSeen.get('strategy/back')).toBe(T0 + 20);
  });

  it('records a retirement as a strategy_retired event besides the closed incidents', () => {
    const c = core();
    c.observe(scoreInput('r1', { valueAtRisk: -0.3 }), id(T0), T0);
    const why = { kind: 'retired', by: 'alice', at: T0 + 5 } as const;
    const out = c.forget(new Set(['strategy/r1']), why, T0 + 6);
    expect(states(out)).toEqual(['var_exceeded:resolved', `${RETIRED_RULE}:resolved`]);
    expect(out[0]?.event?.message).toContain('retired by alice');
    expect(out[1]).toMatchObject({ kind: 'update', expect: null, incident: undefined });
    expect(out[1]?.event).toMatchObject({
      subject: 'strategy/r1',
      level: 'info',
      startsAt: T0 + 5,
    });
    // Forgetting what is not there is a no-op (a redelivered retire command).
    expect(c.forget(new Set(['strategy/r1']), { kind: 'idle', afterMs: 1 }, T0 + 7)).toEqual([]);
  });

  it('drops a forgotten host from the fleet: the system incident no longer sees its value', () => {
    const c = new AlerterCore(
      compileRules({ rules: { cpu_high: { startupGrace: 0, for: '0s', subject: 'system' } } }, 0),
      20,
      new Map(),
      new Map(),
      T0,
    );
    expect(states(c.observe(systemInput('h1', { cpu: 99 }), id(T0), T0))).toEqual([
      'cpu_high:firing',
    ]);
    c.forget(new Set(['host/h1']), { kind: 'idle', afterMs: 1 }, T0 + 1);
    // The fleet incident (subject "system") stays open; h2's low reading is its
    // worst now, so it starts to clear: with h1's 99 still counted nothing would move.
    expect(c.incidents.size).toBe(1);
    const out = c.observe(systemInput('h2', { cpu: 10 }), id(T0 + 2), T0 + 2);
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((t) => t.key === 'cpu_high|system')).toBe(true);
    expect(c.lastSeen.has('host/h1')).toBe(false);
  });
});

describe('the strategy_retired rule name', () => {
  it('is reserved: a rules file cannot define it', () => {
    expect(() =>
      compileRules({ rules: { [RETIRED_RULE]: { metric: 'sharpeRatio', threshold: 1 } } }, 0),
    ).toThrow(/strategy_retired.*reserved/s);
  });
});
