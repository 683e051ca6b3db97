import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { compileRules, type RuleSet } from './rules.js';
import { scoreInput } from './testing-inputs.js';

/** keepFiringFor and flap detection (issue 11, item 2). */

const T0 = 1_700_000_000_000;
const S = 1000;
const MIN = 60 * S;

function core(rules: RuleSet = compileRules({}, 0)): AlerterCore {
  return new AlerterCore(rules, 20, new Map(), new Map(), T0);
}

const events = (ts: Transition[]): string[] =>
  ts.flatMap((t) => (t.event ? [`${t.event.rule}:${t.event.state}`] : []));

/** One sample of strategy `s` at `at`: drawdown and VaR as magnitudes (losses). */
function sample(c: AlerterCore, at: number, m: { dd?: number; var?: number }): Transition[] {
  const metrics = {
    ...(m.dd === undefined ? {} : { currentDrawdown: -m.dd }),
    ...(m.var === undefined ? {} : { valueAtRisk: -m.var }),
  };
  return c.observe(scoreInput('s', metrics), `${at}-0`, at);
}

describe('keepFiringFor', () => {
  it('keeps one incident for a drawdown oscillating across the whole band on every sample', () => {
    // Defaults: drawdown_exceeded fires above 0.10, clears below 0.08, keeps firing 3 minutes.
    const c = core();
    const all: Transition[] = [];
    for (let i = 0; i < 180; i++) {
      const at = T0 + i * 500; // the demo feed's 500 ms
      all.push(...sample(c, at, { dd: i % 2 === 0 ? 0.12 : 0.07 }), ...c.tick(at));
    }
    expect(events(all).filter((e) => !e.endsWith(':firing') || e.startsWith('drawdown'))).toEqual([
      'drawdown_exceeded:firing',
      'drawdown_exceeded:firing', // the same incident, marked flapping (an update)
    ]);
    expect(all.filter((t) => t.kind === 'open')).toHaveLength(1);
    expect(all.filter((t) => t.kind === 'resolve')).toHaveLength(0);
    const ids = new Set(all.flatMap((t) => (t.event ? [t.event.incidentId] : [])));
    expect(ids.size).toBe(1);
  });

  it('resolves a clear incident on the tick when keepFiringFor is up, with no new sample', () => {
    const c = core(compileRules({ rules: { drawdown_exceeded: { keepFiringFor: '1m' } } }, 0));
    const [opened] = sample(c, T0, { dd: 0.12 });
    expect(opened?.event?.state).toBe('firing');
    // Clear at +10 s: silent bookkeeping, the incident still firing, its clear time persisted.
    const [clear] = sample(c, T0 + 10 * S, { dd: 0.05 });
    expect(clear).toMatchObject({ kind: 'update', event: undefined });
    expect(clear?.incident).toMatchObject({ clearSince: T0 + 10 * S, firing: { state: 'firing' } });
    expect(c.tick(T0 + 10 * S + MIN - 1)).toEqual([]);
    const resolved = c.tick(T0 + 10 * S + MIN);
    expect(events(resolved)).toEqual(['drawdown_exceeded:resolved']);
    expect(resolved[0]?.event).toMatchObject({
      incidentId: opened?.event?.incidentId,
      value: 0.05,
      endsAt: T0 + 70 * S,
    });
    expect(c.incidents.size).toBe(0);
  });

  it('restarts the clear time when the value crosses back, keeping the same incident', () => {
    const c = core(compileRules({ rules: { drawdown_exceeded: { keepFiringFor: '1m' } } }, 0));
    sample(c, T0, { dd: 0.12 });
    sample(c, T0 + 10 * S, { dd: 0.05 });
    // Back inside the band (0.09 is not clear of 0.08): no new incident, the clear timer stops.
    const [back] = sample(c, T0 + 30 * S, { dd: 0.09 });
    expect(back).toMatchObject({ kind: 'update', event: undefined });
    expect(back?.incident?.clearSince).toBeUndefined();
    expect(c.tick(T0 + 70 * S)).toEqual([]);
    sample(c, T0 + 40 * S, { dd: 0.05 });
    expect(c.tick(T0 + 99 * S)).toEqual([]);
    expect(events(c.tick(T0 + 100 * S))).toEqual(['drawdown_exceeded:resolved']);
  });

  it('resolves on a sample when the value has been clear for keepFiringFor', () => {
    const c = core(compileRules({ rules: { drawdown_exceeded: { keepFiringFor: '1m' } } }, 0));
    sample(c, T0, { dd: 0.12 });
    sample(c, T0 + S, { dd: 0.05 });
    expect(sample(c, T0 + 30 * S, { dd: 0.04 })).toEqual([]);
    expect(events(sample(c, T0 + 61 * S, { dd: 0.04 }))).toEqual(['drawdown_exceeded:resolved']);
  });

  it('leaves an incident it has not judged clear itself to its next sample (restart)', () => {
    const rules = compileRules({ rules: { drawdown_exceeded: { keepFiringFor: '1m' } } }, 0);
    const before = core(rules);
    sample(before, T0, { dd: 0.12 });
    const [clear] = sample(before, T0 + S, { dd: 0.05 });
    const after = new AlerterCore(
      rules,
      20,
      new Map([[clear!.key, clear!.incident!]]),
      new Map(),
      T0 + 2 * MIN,
    );
    expect(after.tick(T0 + 2 * MIN)).toEqual([]);
    // The persisted clear time counts: the next clear sample resolves.
    expect(events(sample(after, T0 + 2 * MIN + S, { dd: 0.05 }))).toEqual([
      'drawdown_exceeded:resolved',
    ]);
  });

  it('fires var_exceeded on the crossing sample, and a re-crossing owes no second job', () => {
    const c = core(); // defaults: var_exceeded keeps firing 2 minutes
    expect(sample(c, T0, { var: 0.05 })).toEqual([]);
    const [fired] = sample(c, T0 + S, { var: 0.16 });
    expect(fired).toMatchObject({ kind: 'open', event: { state: 'firing', startsAt: T0 + S } });
    expect(c.outbox(T0 + S).jobs.map((i) => i.firing.rule)).toEqual(['var_exceeded']);
    c.mark(fired!.incident!, { jobEnqueued: true, notifiedAt: T0 + S });
    sample(c, T0 + 20 * S, { var: 0.05 });
    expect(events(sample(c, T0 + 40 * S, { var: 0.2 }))).toEqual([]);
    expect(c.outbox(T0 + 40 * S)).toEqual({ jobs: [], notify: [], repeat: [] });
    expect(c.incidents.get(fired!.key)?.firing.incidentId).toBe(fired?.event?.incidentId);
  });

  it('resolves at once with keepFiringFor 0', () => {
    const c = core(compileRules({ rules: { var_exceeded: { keepFiringFor: 0 } } }, 0));
    sample(c, T0, { var: 0.2 });
    expect(events(sample(c, T0 + S, { var: 0.05 }))).toEqual(['var_exceeded:resolved']);
  });
});

describe('flap detection', () => {
  it('marks a flapping incident, holds back its repeats, and clears the mark once it settles', () => {
    const c = core(
      compileRules({ rules: { var_exceeded: { keepFiringFor: '10m', repeatInterval: '1m' } } }, 0),
    );
    const [fired] = sample(c, T0, { var: 0.2 });
    c.mark(fired!.incident!, { jobEnqueued: true, notifiedAt: T0 });
    // VaR swinging across the whole band on every sample.
    const swings: Transition[] = [];
    for (let i = 1; i <= 10; i++)
      swings.push(...sample(c, T0 + i * S, { var: i % 2 ? 0.05 : 0.2 }));
    const marked = swings.filter((t) => t.event);
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatchObject({
      kind: 'update',
      event: {
        incidentId: fired?.event?.incidentId,
        state: 'firing',
        flapping: true,
        message: expect.stringMatching(/is flapping .*repeat notifications held back/),
      },
    });
    expect(c.incidents.get(fired!.key)?.firing.flapping).toBe(true);
    // Its repeat is due, and held back while it flaps.
    expect(c.outbox(T0 + 2 * MIN).repeat).toEqual([]);
    // Steady above the limit: the mark clears within 21 checks, in one event.
    const steady: Transition[] = [];
    for (let i = 11; i <= 40; i++) steady.push(...sample(c, T0 + i * S, { var: 0.2 }));
    const cleared = steady.filter((t) => t.event);
    expect(cleared.map((t) => t.event?.flapping)).toEqual([false]);
    expect(cleared[0]?.event?.message).toMatch(/has settled .*repeat notifications resume/);
    expect(c.outbox(T0 + 2 * MIN).repeat.map((i) => i.firing.incidentId)).toEqual([
      fired?.event?.incidentId,
    ]);
  });

  it('carries the mark onto a new incident opened while the rule still flaps on that subject', () => {
    const c = core(compileRules({ rules: { drawdown_exceeded: { keepFiringFor: 0 } } }, 0));
    const all: Transition[] = [];
    for (let i = 0; i < 8; i++) all.push(...sample(c, T0 + i * S, { dd: i % 2 ? 0.05 : 0.12 }));
    const opens = all.filter((t) => t.kind === 'open').map((t) => t.event?.flapping);
    expect(opens[0]).toBeUndefined();
    expect(opens.at(-1)).toBe(true);
  });

  it('counts a redelivered entry once towards flapping', () => {
    const rules = compileRules({ rules: { var_exceeded: { keepFiringFor: '10m' } } }, 0);
    const value = (i: number): number => (i < 6 && i % 2 ? 0.05 : 0.2);
    const first = core(rules);
    let settled = -1;
    for (let i = 0; settled < 0 && i < 40; i++) {
      if (sample(first, T0 + i * S, { var: value(i) }).some((t) => t.event?.flapping === false))
        settled = i;
    }
    expect(settled).toBeGreaterThan(6);
    // Again up to the entry before the one that settles it, that entry delivered twice.
    const c = core(rules);
    for (let i = 0; i < settled; i++) sample(c, T0 + i * S, { var: value(i) });
    expect(sample(c, T0 + (settled - 1) * S, { var: value(settled - 1) })).toEqual([]);
    expect(c.incidents.values().next().value?.firing.flapping).toBe(true);
    const next = sample(c, T0 + settled * S, { var: value(settled) });
    expect(next.map((t) => t.event?.flapping)).toEqual([false]);
  });

  it('can be tuned or turned off per rule', () => {
    const c = core(
      compileRules(
        { rules: { drawdown_exceeded: { keepFiringFor: '1h', flap: { enabled: false } } } },
        0,
      ),
    );
    const all: Transition[] = [];
    for (let i = 0; i < 40; i++) all.push(...sample(c, T0 + i * S, { dd: i % 2 ? 0.05 : 0.12 }));
    expect(events(all)).toEqual(['drawdown_exceeded:firing']);
  });
});
