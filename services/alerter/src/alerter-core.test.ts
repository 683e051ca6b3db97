import type { Silence } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { compileRules, type RuleSet } from './rules.js';
import { scoreInput, systemInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;
const id = (ms: number, seq = 0): string => `${ms}-${seq}`;

function core(rules: RuleSet = compileRules({}, 60_000), activeSince = T0): AlerterCore {
  return new AlerterCore(rules, 20, new Map(), new Map(), activeSince);
}

const states = (ts: Transition[]): string[] => ts.map((t) => `${t.event?.rule}:${t.event?.state}`);

describe('AlerterCore', () => {
  it('opens exactly one incident for a noisy series hovering around the threshold', () => {
    const c = core();
    const all: Transition[] = [];
    // VaR magnitude 0.15 +- 0.012: crosses the threshold again and again, never below the 0.13 clear threshold.
    for (let i = 0; i < 200; i++) {
      const noise = Math.sin(i * 1.7) * 0.012;
      all.push(
        ...c.observe(
          scoreInput('noisy', { valueAtRisk: -(0.15 + noise) }),
          id(T0 + i * 1000),
          T0 + i * 1000,
        ),
      );
    }
    expect(states(all)).toEqual(['var_exceeded:firing']);
    expect(c.incidents.size).toBe(1);
    // Back past the clear threshold: resolved once, when its keepFiringFor (2 minutes) is up.
    const clear = c.observe(
      scoreInput('noisy', { valueAtRisk: -0.1 }),
      id(T0 + 300_000),
      T0 + 300_000,
    );
    expect(clear.map((t) => t.event)).toEqual([undefined]);
    const end = c.tick(T0 + 420_000).filter((t) => t.event?.rule === 'var_exceeded');
    expect(states(end)).toEqual(['var_exceeded:resolved']);
    expect(end[0]?.event?.incidentId).toBe(all[0]?.event?.incidentId);
  });

  it('is idempotent under redelivery of the same entry', () => {
    const c = core();
    const input = scoreInput('a', { valueAtRisk: -0.3 });
    expect(c.observe(input, id(T0), T0)).toHaveLength(1);
    expect(c.observe(input, id(T0), T0 + 5)).toHaveLength(0);
  });

  it('keeps an incident pending until `for` has elapsed, and drops it if the condition clears first', () => {
    const c = core(compileRules({ rules: { cpu_high: { for: '10s', startupGrace: 0 } } }, 0));
    const cpu = (v: number, at: number): Transition[] =>
      c.observe(systemInput('h1', { cpu: v }), id(at), at);
    expect(states(cpu(95, T0))).toEqual(['cpu_high:pending']);
    expect(cpu(95, T0 + 5000)).toEqual([]);
    const fired = cpu(96, T0 + 10_000);
    expect(states(fired)).toEqual(['cpu_high:firing']);
    expect(fired[0]?.event?.startsAt).toBe(T0);
    expect(fired[0]?.kind).toBe('fire');
    expect(states(cpu(10, T0 + 11_000))).toEqual(['cpu_high:resolved']);
    // A pending one that clears before `for` resolves without ever firing.
    expect(states(cpu(95, T0 + 20_000))).toEqual(['cpu_high:pending']);
    expect(states(cpu(50, T0 + 21_000))).toEqual(['cpu_high:resolved']);
  });

  it('fires a pending incident on its timer when `for` is up, without waiting for a sample', () => {
    // Issue 11: with `for: 10s` a daily strategy stayed pending until its next sample.
    const c = core(compileRules({ rules: { drawdown_exceeded: { for: '10s' } } }, 0));
    const daily = (dd: number, at: number): Transition[] =>
      c.observe(scoreInput('daily', { currentDrawdown: dd }), id(at), at);
    const [opened] = daily(-0.12, T0);
    expect(opened?.event?.state).toBe('pending');
    expect(daily(-0.15, T0 + 2000)).toEqual([]);
    expect(c.tick(T0 + 9999)).toEqual([]);
    const fired = c.tick(T0 + 10_000);
    expect(states(fired)).toEqual(['drawdown_exceeded:firing']);
    expect(fired[0]).toMatchObject({ kind: 'fire', expect: opened?.event?.incidentId });
    expect(fired[0]?.event).toMatchObject({
      incidentId: opened?.event?.incidentId,
      startsAt: T0,
      value: 0.15, // the latest value judged, not the opening one
      ts: T0 + 10_000,
    });
    expect(c.tick(T0 + 11_000)).toEqual([]);
    expect(daily(-0.15, T0 + 12_000)).toEqual([]);
  });

  it('leaves a pending incident it has not judged itself to its next sample (restart, failover)', () => {
    const rules = compileRules({ rules: { drawdown_exceeded: { for: '10s' } } }, 0);
    const before = new AlerterCore(rules, 20, new Map(), new Map(), T0);
    const [opened] = before.observe(scoreInput('s', { currentDrawdown: -0.12 }), id(T0), T0);
    // A new alerter loads the pending incident from Redis; samples may still be in its backlog.
    const after = new AlerterCore(
      rules,
      20,
      new Map([[opened!.key, opened!.incident!]]),
      new Map([['strategy/s', T0]]),
      T0 + 60_000,
    );
    expect(after.tick(T0 + 60_000)).toEqual([]);
    const t = after.observe(
      scoreInput('s', { currentDrawdown: -0.12 }),
      id(T0 + 61_000),
      T0 + 61_000,
    );
    expect(states(t)).toEqual(['drawdown_exceeded:firing']);
  });

  it('judges a due pending incident on its timer by the rules in force', () => {
    const c = core(compileRules({ rules: { drawdown_exceeded: { for: '10s' } } }, 0));
    c.observe(scoreInput('s', { currentDrawdown: -0.12 }), id(T0), T0);
    c.setRules(
      compileRules({ rules: { drawdown_exceeded: { for: '10s', threshold: 0.2 } } }, 0),
      T0 + 1,
    );
    expect(c.tick(T0 + 10_000)).toEqual([]);
  });

  it('applies a per-strategy override (tighter drawdown for one strategy)', () => {
    const c = core(
      compileRules(
        { rules: { drawdown_exceeded: { overrides: { careful: { threshold: 0.05 } } } } },
        0,
      ),
    );
    expect(c.observe(scoreInput('bold', { currentDrawdown: -0.07 }), id(T0), T0)).toEqual([]);
    const t = c.observe(scoreInput('careful', { currentDrawdown: -0.07 }), id(T0), T0);
    expect(states(t)).toEqual(['drawdown_exceeded:firing']);
    expect(t[0]?.event?.threshold).toBe(0.05);
  });

  it('waits for enough observations before judging statistics', () => {
    const c = core();
    expect(c.observe(scoreInput('young', { valueAtRisk: -0.5 }, { count: 5 }), id(T0), T0)).toEqual(
      [],
    );
  });

  it('raises no-data for a silent subject and resolves it when data returns', () => {
    const c = core(compileRules({ noData: { after: '1m', hostAfter: '10s' } }, 0));
    c.observe(scoreInput('quiet', { valueAtRisk: -0.01 }), id(T0), T0);
    c.observe(systemInput('h1', { cpu: 5 }), id(T0), T0);
    expect(c.tick(T0 + 9_000)).toEqual([]);
    expect(states(c.tick(T0 + 10_000))).toEqual(['no_data:firing']);
    expect(c.tick(T0 + 20_000)).toEqual([]);
    const s = c.tick(T0 + 60_000);
    expect(s.map((t) => t.event?.subject)).toEqual(['strategy/quiet']);
    expect(s[0]?.event?.value).toBe(60);
    const back = c.observe(
      scoreInput('quiet', { valueAtRisk: -0.01 }),
      id(T0 + 61_000),
      T0 + 61_000,
    );
    expect(states(back)).toEqual(['no_data:resolved']);
  });

  it('does not count silence from before it became active', () => {
    const c = new AlerterCore(
      compileRules({}, 60_000),
      20,
      new Map(),
      new Map([['strategy/old', T0 - 3_600_000]]),
      T0,
    );
    expect(c.tick(T0 + 59_000)).toEqual([]);
    expect(states(c.tick(T0 + 60_000))).toEqual(['no_data:firing']);
  });

  it('owes a job and a notification for a firing critical incident, nothing once marked', () => {
    const c = core();
    const [t] = c.observe(scoreInput('a', { valueAtRisk: -0.3 }), id(T0), T0);
    const box = c.outbox(T0);
    expect(box.jobs.map((i) => i.action)).toEqual(['risk-reduction']);
    expect(box.notify).toHaveLength(1);
    c.mark(t!.incident!, { jobEnqueued: true, notifiedAt: T0 });
    expect(c.outbox(T0)).toEqual({ jobs: [], notify: [], repeat: [] });
  });

  it('re-notifies after the repeat interval until acknowledged', () => {
    const c = core(compileRules({ rules: { var_exceeded: { repeatInterval: '1m' } } }, 0));
    const [t] = c.observe(scoreInput('a', { valueAtRisk: -0.3 }), id(T0), T0);
    c.mark(t!.incident!, { jobEnqueued: true, notifiedAt: T0 });
    expect(c.outbox(T0 + 59_000).repeat).toHaveLength(0);
    expect(c.outbox(T0 + 60_000).repeat).toHaveLength(1);
    const ack = c.acknowledge(t!.event!.incidentId, { by: 'ops', at: T0 + 1 }, T0 + 1);
    expect(ack?.kind).toBe('update');
    expect(ack?.event?.acknowledged?.by).toBe('ops');
    expect(ack?.event?.state).toBe('firing');
    expect(c.outbox(T0 + 120_000).repeat).toHaveLength(0);
  });

  it('keeps every acknowledgement, the latest as acknowledged, and ignores a redelivered one', () => {
    const c = core();
    const [t] = c.observe(scoreInput('a', { valueAtRisk: -0.3 }), id(T0), T0);
    const incident = t!.event!.incidentId;
    const first = { by: 'alice', at: T0 + 1, tokenName: 'desk-a' };
    const second = { by: 'bob', at: T0 + 2, comment: 'taking over', tokenName: 'desk-b' };
    expect(c.acknowledge(incident, first, T0 + 1)?.event?.acknowledgements).toEqual([first]);
    const again = c.acknowledge(incident, second, T0 + 2);
    expect(again?.event?.acknowledged).toEqual(second);
    expect(again?.event?.acknowledgements).toEqual([first, second]);
    expect(c.acknowledge(incident, second, T0 + 3)).toBeUndefined();
  });

  it('records a silenced incident but owes nothing for it', () => {
    const c = core();
    const silence: Silence = {
      id: 's-1',
      matchers: [{ name: 'subject', value: 'strategy/a', op: '=' }],
      startsAt: T0 - 1,
      endsAt: T0 + 60_000,
      createdBy: 't',
      comment: '',
      createdAt: T0,
    };
    c.setSilences([silence]);
    const [t] = c.observe(scoreInput('a', { valueAtRisk: -0.3 }), id(T0), T0);
    expect(t?.event?.silenced).toEqual({ id: 's-1', endsAt: T0 + 60_000 });
    expect(c.outbox(T0)).toEqual({ jobs: [], notify: [], repeat: [] });
    // Once the silence is over, the still-firing incident is owed its job.
    expect(c.outbox(T0 + 60_000).jobs).toHaveLength(1);
  });

  it('resolves incidents of a rule removed by a reload', () => {
    const c = core(compileRules({ rules: { cpu_high: { for: 0, startupGrace: 0 } } }, 60_000));
    c.observe(systemInput('h1', { cpu: 99 }), id(T0), T0);
    const out = c.setRules(
      compileRules({ rules: { cpu_high: { enabled: false } } }, 60_000),
      T0 + 1,
    );
    expect(states(out)).toEqual(['cpu_high:resolved']);
  });

  it('keeps one fleet-wide incident for a rule on the system subject (worst host)', () => {
    const c = core(
      compileRules(
        {
          rules: {
            fleet_memory: {
              metric: 'memory',
              comparison: '>',
              threshold: 90,
              level: 'warning',
              subject: 'system',
              recommendation: 'x',
            },
          },
        },
        0,
      ),
    );
    const mem = (h: string, v: number, at: number): string[] =>
      states(c.observe(systemInput(h, { memory: v }), id(at), at)).filter((s) =>
        s.startsWith('fleet'),
      );
    expect(mem('h1', 95, T0)).toEqual(['fleet_memory:firing']);
    expect(mem('h2', 95, T0 + 1)).toEqual([]);
    expect(mem('h1', 10, T0 + 2)).toEqual([]);
    expect(mem('h2', 10, T0 + 3)).toEqual(['fleet_memory:resolved']);
  });

  it('adopts what another alerter wrote', () => {
    const a = core();
    const b = core();
    const [ta] = a.observe(scoreInput('x', { valueAtRisk: -0.3 }), id(T0), T0);
    const [tb] = b.observe(scoreInput('x', { valueAtRisk: -0.3 }), id(T0 + 1), T0 + 1);
    expect(tb?.expect).toBeNull();
    b.adopt(tb!.key, ta!.incident);
    expect(b.incidents.get(tb!.key)?.firing.incidentId).toBe(ta!.event!.incidentId);
    expect(b.observe(scoreInput('x', { valueAtRisk: -0.3 }), id(T0 + 2), T0 + 2)).toEqual([]);
  });
});
