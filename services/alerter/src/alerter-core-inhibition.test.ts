import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { compileRules, RulesError, type RuleSet } from './rules.js';
import { scoreInput, systemInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;
const id = (ms: number): string => `${ms}-0`;

function core(rules: RuleSet = compileRules({}, 0)): AlerterCore {
  return new AlerterCore(rules, 20, new Map(), new Map(), T0);
}

const ofRule = (ts: Transition[], rule: string): Transition[] =>
  ts.filter((t) => t.event?.rule === rule);

/** Drawdown 0.12 (past the 0.10 warning) and VaR as given, on one strategy. */
const crash = (strategy: string, valueAtRisk: number) =>
  scoreInput(strategy, { currentDrawdown: -0.12, valueAtRisk });

describe('AlerterCore inhibition (defaults)', () => {
  it('a firing var_exceeded inhibits a drawdown warning on the same strategy, not on another', () => {
    const c = core();
    const ts = c.observe(crash('alpha', -0.2), id(T0), T0);
    const dd = ofRule(ts, 'drawdown_exceeded');
    const varInc = c.incidents.get('var_exceeded|strategy/alpha');
    expect(varInc?.firing.state).toBe('firing');
    // One event for the opening, carrying the mark (the source fired in the same batch).
    expect(dd).toHaveLength(1);
    expect(dd[0]?.event?.state).toBe('firing');
    expect(dd[0]?.event?.inhibitedBy).toEqual({
      incidentId: varInc?.firing.incidentId,
      rule: 'var_exceeded',
    });
    const other = c.observe(
      scoreInput('beta', { currentDrawdown: -0.12 }),
      id(T0 + 1000),
      T0 + 1000,
    );
    const betaDd = ofRule(other, 'drawdown_exceeded');
    expect(betaDd[0]?.event?.state).toBe('firing');
    expect(betaDd[0]?.event?.inhibitedBy).toBeUndefined();
    expect(
      c
        .outbox(T0 + 1000)
        .notify.map((i) => i.firing.subject)
        .sort(),
    ).toEqual(['strategy/alpha', 'strategy/beta']);
  });

  it('owes no notification, repeat or job for an inhibited incident', () => {
    const rules = compileRules(
      {
        rules: { drawdown_exceeded: { level: 'critical', action: 'dd-job', repeatInterval: '1m' } },
      },
      0,
    );
    // Make the drawdown rule a critical with a job, muted by a custom rule.
    const muted = compileRules(
      {
        rules: { drawdown_exceeded: { level: 'critical', action: 'dd-job', repeatInterval: '1m' } },
        inhibit: [
          {
            source: { rule: 'var_exceeded' },
            target: { rule: 'drawdown_exceeded' },
            equal: ['subject'],
          },
        ],
      },
      0,
    );
    const free = core(rules);
    free.observe(crash('alpha', -0.2), id(T0), T0);
    const owed = free.outbox(T0);
    expect(owed.jobs.map((i) => i.firing.rule).sort()).toEqual([
      'drawdown_exceeded',
      'var_exceeded',
    ]);

    const c = core(muted);
    c.observe(crash('alpha', -0.2), id(T0), T0);
    const box = c.outbox(T0);
    expect(box.jobs.map((i) => i.firing.rule)).toEqual(['var_exceeded']);
    expect(box.notify.map((i) => i.firing.rule)).toEqual(['var_exceeded']);
    const dd = c.incidents.get('drawdown_exceeded|strategy/alpha');
    expect(dd?.firing.inhibitedBy?.rule).toBe('var_exceeded');
    // Long past its repeat interval, even marked notified: still nothing.
    const later = c.outbox(
      T0 + 3_600_000,
      dd ? [{ ...dd, notified: true, lastNotifiedAt: T0 }] : [],
    );
    expect(later).toEqual({ jobs: [], notify: [], repeat: [] });
  });

  it("releases the target when the source resolves, which then owes a fresh firing's notification", () => {
    const c = core();
    c.observe(crash('alpha', -0.2), id(T0), T0);
    expect(c.outbox(T0).notify.map((i) => i.firing.rule)).toEqual(['var_exceeded']);
    // VaR back inside its clear threshold, drawdown still past 0.10.
    c.observe(crash('alpha', -0.05), id(T0 + 1000), T0 + 1000);
    // VaR resolves once its keepFiringFor (2 minutes) is up.
    const ts = c.tick(T0 + 200_000);
    expect(ofRule(ts, 'var_exceeded').map((t) => t.event?.state)).toEqual(['resolved']);
    const released = ofRule(ts, 'drawdown_exceeded');
    expect(released).toHaveLength(1);
    expect(released[0]?.kind).toBe('update');
    expect(released[0]?.event?.inhibitedBy).toBeUndefined();
    expect(released[0]?.event?.message).toContain('released');
    const box = c.outbox(T0 + 200_000);
    expect(box.notify.map((i) => i.firing.rule)).toEqual(['drawdown_exceeded']);
  });

  it('marks an already firing target with an update event when its source fires later', () => {
    const c = core();
    c.observe(scoreInput('alpha', { currentDrawdown: -0.12 }), id(T0), T0);
    const ts = c.observe(crash('alpha', -0.2), id(T0 + 1000), T0 + 1000);
    const dd = ofRule(ts, 'drawdown_exceeded');
    expect(dd.map((t) => t.kind)).toEqual(['update']);
    expect(dd[0]?.event?.inhibitedBy?.rule).toBe('var_exceeded');
    expect(dd[0]?.event?.message).toContain('inhibited by var_exceeded');
  });

  it('mutes api_slow on the host whose error_rate_high fires, not on another host', () => {
    const c = core(
      compileRules(
        {
          rules: {
            api_slow: { for: 0, startupGrace: 0 },
            error_rate_high: { for: 0, startupGrace: 0, minVolume: 0 },
          },
        },
        0,
      ),
    );
    c.observe(systemInput('h1', { errorRate: 50, apiResponseTime: 3 }), id(T0), T0);
    c.observe(systemInput('h2', { apiResponseTime: 3 }), id(T0 + 1), T0 + 1);
    expect(c.incidents.get('api_slow|host/h1')?.firing.inhibitedBy?.rule).toBe('error_rate_high');
    expect(c.incidents.get('api_slow|host/h2')?.firing.inhibitedBy).toBeUndefined();
  });

  it('inhibits nothing with `inhibit: []`', () => {
    const c = core(compileRules({ inhibit: [] }, 0));
    c.observe(crash('alpha', -0.2), id(T0), T0);
    expect(
      c
        .outbox(T0)
        .notify.map((i) => i.firing.rule)
        .sort(),
    ).toEqual(['drawdown_exceeded', 'var_exceeded']);
  });
});

describe('rules file inhibit validation', () => {
  const issues = (file: unknown): string[] => {
    try {
      compileRules(file, 0);
    } catch (err) {
      if (err instanceof RulesError) return err.issues.map((i) => `${i.field}: ${i.message}`);
      throw err;
    }
    return [];
  };

  it('accepts a rule name or a list, levels, labels and equal fields', () => {
    const set = compileRules(
      {
        inhibit: [
          {
            source: { rule: 'var_exceeded', labels: { desk: 'fx' } },
            target: { rule: ['sharpe_decline', 'no_data'], level: 'warning' },
            equal: ['subject', 'desk'],
          },
        ],
      },
      0,
    );
    expect(set.inhibit).toHaveLength(1);
    expect(compileRules({}, 0).inhibit.length).toBeGreaterThan(0);
  });

  it('names a misspelt rule and suggests the nearest', () => {
    expect(
      issues({
        inhibit: [
          { source: { rule: 'var_exceded' }, target: { rule: 'api_slow' }, equal: ['subject'] },
        ],
      }),
    ).toEqual([
      expect.stringMatching(
        /^inhibit\.0\.source\.rule: unknown rule var_exceded: did you mean var_exceeded\?/,
      ),
    ]);
  });

  it('rejects empty matchers, empty or bad equal, unknown keys and levels', () => {
    const got = issues({
      inhibit: [
        { source: {}, target: { level: 'severe' }, equal: [] },
        {
          source: { rule: 'var_exceeded' },
          target: { rule: 'api_slow' },
          equal: ['bad-name'],
          extra: 1,
        },
      ],
    });
    expect(
      got.some((m) => m.startsWith('inhibit.0.source: at least one of rule, level or labels')),
    ).toBe(true);
    expect(got.some((m) => m.startsWith('inhibit.0.target.level:'))).toBe(true);
    expect(got.some((m) => m.startsWith('inhibit.0.equal: a non-empty list'))).toBe(true);
    expect(got.some((m) => m.startsWith('inhibit.1.equal.0: subject or a label name'))).toBe(true);
    expect(got.some((m) => m.startsWith('inhibit.1: ') && m.includes('extra'))).toBe(true);
  });

  it('rejects an inhibit that is not a list', () => {
    expect(issues({ inhibit: { source: {} } })).toEqual([
      'inhibit: a list of {source, target, equal} entries',
    ]);
  });
});
