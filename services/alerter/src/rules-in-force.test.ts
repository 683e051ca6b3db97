import { describe, expect, it } from 'vitest';
import { RulesInForce } from '@quantmon/shared';
import { compileRules } from './rules.js';
import { describeRules, rulesLoadedLog } from './rules-in-force.js';

const file = {
  rules: {
    drawdown_exceeded: { for: '10s', overrides: { alpha: { threshold: 0.2 } } },
    cpu_high: { enabled: false },
    weight_drift_high: {
      metric: 'weightDrift',
      comparison: '>',
      threshold: 5,
      level: 'info',
      subject: 'strategy',
      recommendation: 'x',
    },
  },
};

describe('rules in force', () => {
  it('describes each rule with where it came from, in the published schema', () => {
    const rules = describeRules(compileRules(file, 60_000));
    const byName = new Map(rules.map((r) => [r.name, r]));
    expect(byName.get('drawdown_exceeded')).toMatchObject({
      origin: 'override',
      forMs: 10_000,
      overrides: ['alpha'],
    });
    expect(byName.get('weight_drift_high')).toMatchObject({ origin: 'file', threshold: 5 });
    expect(byName.get('var_exceeded')).toMatchObject({ origin: 'default', level: 'critical' });
    expect(byName.has('cpu_high')).toBe(false);
    expect(() =>
      RulesInForce.parse({ loadedAt: 1, file: 'r.yaml', replica: 'a', rules }),
    ).not.toThrow();
  });

  it('logs the file, the rule count, the defaults it overrides and the rules it adds', () => {
    const set = compileRules(file, 60_000);
    expect(rulesLoadedLog(set, '/etc/quantmon/rules.yaml')).toEqual({
      file: '/etc/quantmon/rules.yaml',
      rules: set.rules.length,
      overrides: ['drawdown_exceeded'],
      added: ['weight_drift_high'],
    });
    expect(rulesLoadedLog(compileRules({}, 60_000), undefined)).toMatchObject({
      file: null,
      overrides: [],
      added: [],
    });
  });
});
