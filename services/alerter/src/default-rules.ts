import { EMERGENCY_JOB } from '@quantmon/shared';
import type { RuleSpec } from './rule-spec.js';

/**
 * The ten default rules of ARCHITECTURE.md, as rules-file entries (a rules
 * file patches them by name). Losses (drawdown, VaR) are compared as
 * magnitudes: "VaR beyond 0.15" is a 5 % quantile return below -0.15.
 * Each has a clear threshold a little inside the limit, so a value hovering
 * around the limit keeps one incident instead of flapping.
 */
export const DEFAULT_RULE_SPECS: Readonly<Record<string, RuleSpec>> = {
  drawdown_exceeded: {
    metric: 'currentDrawdown',
    transform: 'negate',
    comparison: '>',
    threshold: 0.1,
    clearThreshold: 0.08,
    level: 'warning',
    subject: 'strategy',
    recommendation:
      'Drawdown is beyond 10 %: review open positions and consider cutting exposure until the strategy recovers.',
  },
  volatility_spike: {
    metric: 'annualVolatility',
    comparison: '>',
    threshold: 0.25,
    clearThreshold: 0.22,
    level: 'warning',
    subject: 'strategy',
    recommendation:
      'Annualised volatility is above 25 %: check for regime change and scale position sizes to the volatility target.',
  },
  sharpe_decline: {
    metric: 'sharpeRatio',
    comparison: '<',
    threshold: 0.5,
    clearThreshold: 0.6,
    level: 'warning',
    subject: 'strategy',
    recommendation:
      'Sharpe is below 0.5: review the strategy signal and costs; consider reducing its allocation.',
  },
  rebalancing_needed: {
    metric: 'weightDrift',
    comparison: '>',
    threshold: 0.1,
    clearThreshold: 0.08,
    level: 'info',
    subject: 'strategy',
    recommendation:
      'A position drifted more than 10 points from its target weight: schedule a rebalance.',
  },
  var_exceeded: {
    metric: 'valueAtRisk',
    transform: 'negate',
    comparison: '>',
    threshold: 0.15,
    clearThreshold: 0.13,
    level: 'critical',
    subject: 'strategy',
    action: EMERGENCY_JOB.riskReduction,
    recommendation:
      'Value at Risk is beyond 15 %: reduce gross exposure now; a risk-reduction job has been queued.',
  },
  correlation_spike: {
    metric: 'correlation',
    comparison: '>',
    threshold: 0.8,
    clearThreshold: 0.75,
    level: 'warning',
    subject: 'strategy',
    recommendation:
      'Correlation to the benchmark is above 0.8: the strategy is close to beta; check diversification.',
  },
  cpu_high: {
    metric: 'cpu',
    comparison: '>',
    threshold: 80,
    clearThreshold: 70,
    level: 'warning',
    subject: 'host',
    recommendation:
      'CPU above 80 %: look for runaway processes or add capacity before latency suffers.',
  },
  memory_high: {
    metric: 'memory',
    comparison: '>',
    threshold: 85,
    clearThreshold: 80,
    level: 'warning',
    subject: 'host',
    recommendation:
      'Memory above 85 %: check for leaks and large caches; the host is close to swapping.',
  },
  api_slow: {
    metric: 'apiResponseTime',
    comparison: '>',
    threshold: 2.0,
    clearThreshold: 1.5,
    level: 'warning',
    subject: 'host',
    recommendation: 'API response time above 2 s: check the probed service and its dependencies.',
  },
  error_rate_high: {
    metric: 'errorRate',
    comparison: '>',
    threshold: 5,
    clearThreshold: 4,
    level: 'critical',
    subject: 'host',
    action: EMERGENCY_JOB.systemCheck,
    recommendation:
      'Error rate above 5 %: a system-check job has been queued; inspect failing probes and dead letters.',
  },
};
