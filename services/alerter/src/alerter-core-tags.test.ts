import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { alertmanagerLabels } from './notifier/alertmanager-payload.js';
import { describeRules } from './rules-in-force.js';
import { compileRules, RulesError } from './rules.js';
import { scoreInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;
const core = (rules: Record<string, unknown>): AlerterCore =>
  new AlerterCore(
    compileRules({ noData: { enabled: false }, rules }, 60_000),
    20,
    new Map(),
    new Map(),
    T0,
  );
const events = (ts: Transition[]) => ts.flatMap((t) => (t.event ? [t.event] : []));

const RATES = { desk: 'rates', manager: 'kim' };
const FX = { desk: 'fx', manager: 'lee' };

describe('AlerterCore with strategy tags', () => {
  it('labels a strategy incident with its tags, under the rule labels', () => {
    const c = core({ var_exceeded: { labels: { team: 'risk', manager: 'desk-head' } } });
    const [e] = events(
      c.observe(scoreInput('r1', { valueAtRisk: -0.2 }, { tags: RATES }), `${T0}-0`, T0),
    );
    expect(e).toMatchObject({
      rule: 'var_exceeded',
      state: 'firing',
      labels: { desk: 'rates', manager: 'desk-head', team: 'risk' },
    });
    // Alertmanager gets them as labels too, its own (strategy, severity...) kept.
    expect(alertmanagerLabels(e!)).toEqual({
      desk: 'rates',
      manager: 'desk-head',
      team: 'risk',
      alertname: 'var_exceeded',
      severity: 'critical',
      rule: 'var_exceeded',
      strategy: 'r1',
    });
  });

  it('watches only matching strategies when a rule has `match`', () => {
    const c = core({
      rates_var: {
        metric: 'valueAtRisk',
        transform: 'negate',
        comparison: '>',
        threshold: 0.05,
        level: 'warning',
        subject: 'strategy',
        match: { desk: ['rates', 'credit'] },
        recommendation: 'Rates desk VaR limit.',
      },
    });
    const out = [
      ...c.observe(scoreInput('r1', { valueAtRisk: -0.08 }, { tags: RATES }), `${T0}-0`, T0),
      ...c.observe(scoreInput('f1', { valueAtRisk: -0.08 }, { tags: FX }), `${T0}-1`, T0),
      ...c.observe(scoreInput('u1', { valueAtRisk: -0.08 }), `${T0}-2`, T0),
    ];
    expect(events(out).map((e) => `${e.rule} ${e.subject}`)).toEqual(['rates_var strategy/r1']);
  });

  it('applies a tag override (desk=rates) under a strategy id override', () => {
    const c = core({
      drawdown_exceeded: {
        overrides: {
          'desk=rates': { threshold: 0.05, clearThreshold: 0.04, level: 'critical' },
          r2: { threshold: 0.2 },
          'manager=lee': { enabled: false },
        },
      },
    });
    const dd = (id: string, tags: Record<string, string>, i: number) =>
      events(c.observe(scoreInput(id, { currentDrawdown: -0.07 }, { tags }), `${T0}-${i}`, T0));
    // r1 is on the rates desk: 0.05, critical.
    expect(dd('r1', RATES, 0)).toMatchObject([{ threshold: 0.05, level: 'critical' }]);
    // r2 too, but its own override (0.2) applies last; the level stays the desk's.
    expect(dd('r2', RATES, 1)).toEqual([]);
    // fx is managed by lee: the rule is off for it.
    expect(dd('f1', FX, 2)).toEqual([]);
    // An untagged strategy has the default 0.10.
    expect(dd('u1', {}, 3)).toEqual([]);
    expect(describeRules(c.rules).find((r) => r.name === 'drawdown_exceeded')?.overrides).toEqual([
      'r2',
      'desk=rates',
      'manager=lee',
    ]);
  });

  it('resolves on the timer with the tag override the strategy had', () => {
    const c = core({
      drawdown_exceeded: { overrides: { 'desk=rates': { threshold: 0.05, clearThreshold: 0.04 } } },
    });
    c.observe(scoreInput('r1', { currentDrawdown: -0.07 }, { tags: RATES }), `${T0}-0`, T0);
    // Back to 0.045: past the default clear (0.08) but not the desk's (0.04): still firing.
    c.observe(
      scoreInput('r1', { currentDrawdown: -0.045 }, { tags: RATES }),
      `${T0 + 1}-0`,
      T0 + 1,
    );
    expect(events(c.tick(T0 + 10 * 60_000))).toEqual([]);
    c.observe(scoreInput('r1', { currentDrawdown: -0.03 }, { tags: RATES }), `${T0 + 2}-0`, T0 + 2);
    expect(events(c.tick(T0 + 10 * 60_000)).map((e) => e.state)).toEqual(['resolved']);
  });

  it('judges a derived metric of the update (derived.<name>)', () => {
    const c = core({
      sharpe_gap: {
        metric: 'derived.sharpeGap',
        comparison: '<',
        threshold: -1,
        level: 'info',
        subject: 'strategy',
        recommendation: 'The 60-period Sharpe is well under the long one.',
      },
    });
    const seen = [
      ...c.observe(scoreInput('a', {}, { derived: { sharpeGap: -1.5 } }), `${T0}-0`, T0),
      ...c.observe(scoreInput('b', {}, { derived: { sharpeGap: null } }), `${T0}-1`, T0),
      ...c.observe(scoreInput('c', {}), `${T0}-2`, T0),
    ];
    expect(events(seen).map((e) => `${e.subject} ${e.value} ${e.metric}`)).toEqual([
      'strategy/a -1.5 derived.sharpeGap',
    ]);
  });
});

describe('tag rules validation', () => {
  const issues = (rules: Record<string, unknown>): string => {
    try {
      compileRules({ rules }, 60_000);
    } catch (err) {
      if (err instanceof RulesError) return err.message;
      throw err;
    }
    return 'accepted';
  };

  it('names a bad matcher, a tag override on a host rule and a bad derived name', () => {
    expect(issues({ cpu_high: { match: { desk: 'rates' } } })).toContain(
      'rule "cpu_high", field "match": matches strategy tags; cpu is a host metric',
    );
    expect(issues({ cpu_high: { overrides: { 'desk=rates': { threshold: 90 } } } })).toContain(
      'a tag override applies to strategies',
    );
    expect(issues({ var_exceeded: { match: {} } })).toContain('at least one tag');
    expect(issues({ var_exceeded: { match: { Desk: 'x' } } })).toContain('not a tag key');
    expect(issues({ var_exceeded: { overrides: { 'desk=': {} } } })).toContain('tag selector');
    expect(
      issues({
        x: {
          metric: 'derived.9bad',
          comparison: '>',
          threshold: 1,
          level: 'info',
          subject: 'strategy',
          recommendation: 'r',
        },
      }),
    ).toContain('unknown metric');
  });
});
