import { describe, expect, it } from 'vitest';
import { RATIO_MIN_OBSERVATIONS } from './default-rules.js';
import {
  breaches,
  compileRules,
  effectiveRule,
  formatRuleIssue,
  RulesError,
  stillBreaching,
} from './rules.js';

function issues(file: unknown): string[] {
  try {
    compileRules(file, 60_000);
  } catch (err) {
    if (err instanceof RulesError) return err.issues.map(formatRuleIssue);
    throw err;
  }
  return [];
}

describe('rules', () => {
  it('compiles the ten default rules and the two pipeline rules', () => {
    const set = compileRules({}, 60_000);
    expect(set.rules.map((r) => r.name).sort()).toEqual(
      [
        'api_slow',
        'correlation_spike',
        'cpu_high',
        'drawdown_exceeded',
        'error_rate_high',
        'memory_high',
        'rebalancing_needed',
        'sharpe_decline',
        'var_exceeded',
        'volatility_spike',
        'service_down',
        'consumer_lag_growing',
      ].sort(),
    );
    const v = set.rules.find((r) => r.name === 'var_exceeded');
    expect(v?.base.action).toBe('risk-reduction');
    expect(set.rules.find((r) => r.name === 'error_rate_high')?.base.action).toBe('system-check');
  });

  it('patches a default, disables one, adds a rule, and applies a per-strategy override', () => {
    const set = compileRules(
      {
        rules: {
          drawdown_exceeded: {
            threshold: 0.2,
            clearThreshold: 0.15,
            overrides: { conservative: { threshold: 0.05 }, wild: { enabled: false } },
          },
          sharpe_decline: { enabled: false },
          pnl_stop: {
            metric: 'cumulativeReturn',
            comparison: '<',
            threshold: -0.2,
            level: 'critical',
            subject: 'strategy/alpha',
            action: 'flatten',
            for: '30s',
            repeatInterval: '1h',
            labels: { team: 'risk' },
            recommendation: 'Flatten alpha.',
          },
        },
      },
      60_000,
    );
    expect(set.rules.some((r) => r.name === 'sharpe_decline')).toBe(false);
    const dd = set.rules.find((r) => r.name === 'drawdown_exceeded')!;
    expect(effectiveRule(dd, 'strategy/other')?.threshold).toBe(0.2);
    expect(effectiveRule(dd, 'strategy/conservative')?.threshold).toBe(0.05);
    // A new threshold without its own clear threshold does not inherit one from the wrong side.
    expect(effectiveRule(dd, 'strategy/conservative')?.clearThreshold).toBeUndefined();
    expect(effectiveRule(dd, 'strategy/wild')).toBeUndefined();
    const pnl = set.rules.find((r) => r.name === 'pnl_stop')!;
    expect(pnl.base).toMatchObject({ forMs: 30_000, repeatMs: 3_600_000, action: 'flatten' });
    expect(pnl.subject).toBe('strategy/alpha');
  });

  it('names the rule and field of every problem', () => {
    expect(
      issues({
        rules: {
          var_exceeded: { threshold: 'high' },
          new_rule: { metric: 'cpu', comparison: '>', level: 'warning', subject: 'host' },
          bad_metric: {
            metric: 'sharpness',
            comparison: '>',
            threshold: 1,
            level: 'info',
            subject: 'strategy',
            recommendation: 'x',
          },
        },
      }),
    ).toEqual([
      expect.stringMatching(/^rule "var_exceeded", field "threshold": /),
      expect.stringMatching(/^rule "new_rule", field "threshold": /),
      expect.stringMatching(/^rule "new_rule", field "recommendation": /),
      expect.stringMatching(/^rule "bad_metric", field "metric": unknown metric/),
    ]);
  });

  it('suggests the nearest default for a misspelt patch that lacks the fields of a new rule', () => {
    expect(issues({ rules: { var_exceded: { threshold: 0.2 } } })).toEqual([
      'rule "var_exceded", field "(root)": not a default rule: did you mean var_exceeded? ' +
        '(a new rule also needs metric, comparison, level, subject, recommendation)',
    ]);
    // Nothing near enough: the missing fields alone.
    expect(issues({ rules: { loss_stop: { threshold: 0.2 } } })).toContainEqual(
      expect.stringMatching(/^rule "loss_stop", field "metric": /),
    );
  });

  it('takes a complete new rule named like a default as a new rule', () => {
    const set = compileRules(
      {
        rules: {
          cpu_higher: {
            metric: 'cpu',
            comparison: '>',
            threshold: 95,
            level: 'critical',
            subject: 'host',
            recommendation: 'x',
          },
        },
      },
      60_000,
    );
    expect(set.rules.find((r) => r.name === 'cpu_higher')?.origin).toBe('file');
    expect(set.rules.find((r) => r.name === 'cpu_high')?.origin).toBe('default');
  });

  it('rejects semantic mistakes: wrong subject, action on a warning, clear threshold on the wrong side', () => {
    expect(issues({ rules: { cpu_high: { subject: 'strategy' } } })).toEqual([
      'rule "cpu_high", field "subject": cpu is a host metric',
    ]);
    expect(issues({ rules: { var_exceeded: { level: 'warning' } } })).toEqual([
      'rule "var_exceeded", field "action": only critical rules take an action',
    ]);
    expect(issues({ rules: { var_exceeded: { clearThreshold: 0.2 } } })).toEqual([
      expect.stringMatching(
        /^rule "var_exceeded", field "clearThreshold": must be on the resolving side/,
      ),
    ]);
    expect(issues({ rules: { cpu_high: { for: 'soon' } } })[0]).toMatch(
      /^rule "cpu_high", field "for": /,
    );
    expect(issues({ rule: {} })[0]).toMatch(/^field "\(root\)": /);
    expect(issues({ rules: { no_data: { threshold: 1 } } })[0]).toMatch(/rule "no_data".*reserved/);
  });

  it('gives host rules a `for` and a start-up grace, and risk rules neither', () => {
    const set = compileRules({}, 60_000);
    const rule = (name: string) => set.rules.find((r) => r.name === name)!;
    expect(rule('cpu_high').base.forMs).toBe(120_000);
    expect(rule('memory_high').base.forMs).toBe(300_000);
    expect(rule('api_slow').base.forMs).toBe(60_000);
    expect(rule('error_rate_high').base.forMs).toBe(60_000);
    expect(rule('error_rate_high').minVolume).toBe(20);
    for (const name of ['cpu_high', 'memory_high', 'api_slow', 'error_rate_high']) {
      expect(rule(name).startupGraceMs).toBe(60_000);
    }
    for (const name of ['var_exceeded', 'drawdown_exceeded']) {
      expect(rule(name).base.forMs).toBe(0);
      expect(rule(name).startupGraceMs).toBe(0);
    }
    expect(rule('sharpe_decline').minObservations).toBe(RATIO_MIN_OBSERVATIONS);
    expect(rule('var_exceeded').minObservations).toBeUndefined(); // ALERTER_MIN_OBSERVATIONS
  });

  it('lets a rules file change or turn off each of them', () => {
    const set = compileRules(
      {
        rules: {
          cpu_high: { for: 0, startupGrace: '5m' },
          error_rate_high: { minVolume: 0 },
          sharpe_decline: { minObservations: 60 },
          sortino_low: {
            metric: 'sortinoRatio',
            comparison: '<',
            threshold: 0.5,
            level: 'warning',
            subject: 'strategy',
            recommendation: 'x',
          },
        },
      },
      60_000,
    );
    const rule = (name: string) => set.rules.find((r) => r.name === name)!;
    expect(rule('cpu_high').base.forMs).toBe(0);
    expect(rule('cpu_high').startupGraceMs).toBe(300_000);
    expect(rule('error_rate_high').minVolume).toBe(0);
    expect(rule('sharpe_decline').minObservations).toBe(60);
    // A new rule on an annualised ratio gets the ratio floor unless it sets its own.
    expect(rule('sortino_low').minObservations).toBe(RATIO_MIN_OBSERVATIONS);
  });

  it('names the field and what it takes when a quality option is misused', () => {
    expect(issues({ rules: { cpu_high: { minVolume: 10 } } })).toEqual([
      'rule "cpu_high", field "minVolume": applies to rates whose sample carries their volume (errorRate), not cpu',
    ]);
    expect(issues({ rules: { var_exceeded: { startupGrace: '1m' } } })).toEqual([
      'rule "var_exceeded", field "startupGrace": applies to host metrics; valueAtRisk is a strategy metric (use minObservations)',
    ]);
    expect(issues({ rules: { cpu_high: { minObservations: 5 } } })).toEqual([
      'rule "cpu_high", field "minObservations": applies to strategy statistics; cpu is a host metric (use for or minVolume)',
    ]);
    expect(issues({ rules: { error_rate_high: { minVolume: 2.5 } } })).toEqual([
      'rule "error_rate_high", field "minVolume": a whole number of operations',
    ]);
    for (const bad of ['10 minutes', -1, true]) {
      expect(issues({ rules: { cpu_high: { startupGrace: bad } } })).toEqual([
        expect.stringMatching(
          /^rule "cpu_high", field "startupGrace": a duration: milliseconds .* such as 500ms, 30s, 5m, 2h, 1d$/,
        ),
      ]);
    }
  });

  it('reads keepFiringFor and flap detection, per rule and per override, with their defaults', () => {
    const set = compileRules(
      {
        rules: {
          drawdown_exceeded: {
            keepFiringFor: '10m',
            flap: { checks: 11, high: 0.4 },
            overrides: { slow: { keepFiringFor: '1h' } },
          },
          correlation_spike: { flap: { enabled: false } },
        },
      },
      0,
    );
    const rule = (name: string) => set.rules.find((r) => r.name === name)!;
    expect(rule('drawdown_exceeded').base).toMatchObject({
      keepFiringMs: 600_000,
      flap: { checks: 11, high: 0.4, low: 0.05 },
    });
    expect(effectiveRule(rule('drawdown_exceeded'), 'strategy/slow')?.keepFiringMs).toBe(3_600_000);
    expect(rule('correlation_spike').base.flap.checks).toBe(0);
    const defaults = compileRules({}, 0);
    const base = (name: string) => defaults.rules.find((r) => r.name === name)!.base;
    expect(base('drawdown_exceeded').keepFiringMs).toBe(180_000);
    expect(base('volatility_spike').keepFiringMs).toBe(180_000);
    expect(base('sharpe_decline').keepFiringMs).toBe(300_000);
    expect(base('var_exceeded')).toMatchObject({ forMs: 0, keepFiringMs: 120_000 });
    expect(base('cpu_high').keepFiringMs).toBe(0);
    expect(base('cpu_high').flap).toEqual({ checks: 21, high: 0.2, low: 0.05 });
  });

  it('names the field and what it takes when keepFiringFor or flap is wrong', () => {
    expect(issues({ rules: { var_exceeded: { keepFiringFor: '2 minutes' } } })).toEqual([
      expect.stringMatching(
        /^rule "var_exceeded", field "keepFiringFor": a duration: milliseconds .* such as 500ms, 30s, 5m, 2h, 1d$/,
      ),
    ]);
    expect(issues({ rules: { var_exceeded: { flap: { high: 50 } } } })).toEqual([
      'rule "var_exceeded", field "flap.high": a share of state changes between 0 and 1, such as 0.2 for 20 %',
    ]);
    expect(issues({ rules: { var_exceeded: { flap: { checks: 100 } } } })).toEqual([
      'rule "var_exceeded", field "flap.checks": a whole number of checks, 3 to 31',
    ]);
    expect(issues({ rules: { var_exceeded: { flap: { low: 0.3 } } } })).toEqual([
      'rule "var_exceeded", field "flap.low": must be below high (0.2): the mark is set at high and cleared at low',
    ]);
    expect(issues({ rules: { var_exceeded: { flap: { window: '10m' } } } })).toEqual([
      expect.stringMatching(/^rule "var_exceeded", field "flap": Unrecognized key: "window"/),
    ]);
  });

  it('compares with hysteresis', () => {
    const rule = compileRules({}, 0).rules.find((r) => r.name === 'var_exceeded')!.base;
    expect(breaches(rule, 0.16)).toBe(true);
    expect(breaches(rule, 0.14)).toBe(false);
    expect(stillBreaching(rule, 0.14)).toBe(true);
    expect(stillBreaching(rule, 0.12)).toBe(false);
  });

  it('reads no-data settings with per-subject overrides', () => {
    const set = compileRules(
      {
        noData: {
          after: '10m',
          hostAfter: '30s',
          overrides: { slow: { after: '1d' }, old: { enabled: false } },
        },
      },
      60_000,
    );
    expect(set.noData.strategyAfterMs).toBe(600_000);
    expect(set.noData.hostAfterMs).toBe(30_000);
    expect(set.noData.overrides.get('slow')).toBe(86_400_000);
    expect(set.noData.overrides.get('old')).toBe(0);
  });
});
