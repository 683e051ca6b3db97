import {
  EMERGENCY_JOB,
  fromMetricValue,
  type AlertLevel,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';

/** What a rule reads: a strategy's score update or a host's system sample. */
export type RuleInput =
  { kind: 'score'; update: ScoreUpdate } | { kind: 'system'; sample: SystemSample };

export interface Rule {
  name: string;
  level: AlertLevel;
  /** The metric as users know it (shown in alerts). */
  metric: string;
  comparison: '>' | '<';
  threshold: number;
  source: RuleInput['kind'];
  /** The observed value, or undefined when the input does not measure it. */
  valueOf: (input: RuleInput, minObservations: number) => number | undefined;
  recommendation: string;
  /** Emergency job name for critical incidents. */
  action?: string;
}

/** A statistic from a score update, once the window holds enough observations. */
function stat(pick: (u: ScoreUpdate) => number, needsHistory = true) {
  return (input: RuleInput, minObservations: number): number | undefined => {
    if (input.kind !== 'score') return undefined;
    if (needsHistory && input.update.count < minObservations) return undefined;
    const v = pick(input.update);
    return Number.isFinite(v) ? v : undefined;
  };
}

function sys(pick: (s: SystemSample) => number | undefined) {
  return (input: RuleInput): number | undefined =>
    input.kind === 'system' ? pick(input.sample) : undefined;
}

const m = (u: ScoreUpdate, name: keyof ScoreUpdate['metrics']): number =>
  fromMetricValue(u.metrics[name]);

/**
 * The ten default rules of ARCHITECTURE.md. Losses (drawdown, VaR) are
 * compared as magnitudes: "VaR beyond 0.15" is a 5 % quantile return below
 * -0.15, shown as 0.15+.
 */
export const DEFAULT_RULES: readonly Rule[] = [
  {
    name: 'drawdown_exceeded',
    level: 'warning',
    metric: 'currentDrawdown',
    comparison: '>',
    threshold: 0.1,
    source: 'score',
    valueOf: stat((u) => -m(u, 'currentDrawdown')),
    recommendation:
      'Drawdown is beyond 10 %: review open positions and consider cutting exposure until the strategy recovers.',
  },
  {
    name: 'volatility_spike',
    level: 'warning',
    metric: 'annualVolatility',
    comparison: '>',
    threshold: 0.25,
    source: 'score',
    valueOf: stat((u) => m(u, 'annualVolatility')),
    recommendation:
      'Annualised volatility is above 25 %: check for regime change and scale position sizes to the volatility target.',
  },
  {
    name: 'sharpe_decline',
    level: 'warning',
    metric: 'sharpeRatio',
    comparison: '<',
    threshold: 0.5,
    source: 'score',
    valueOf: stat((u) => m(u, 'sharpeRatio')),
    recommendation:
      'Sharpe is below 0.5: review the strategy signal and costs; consider reducing its allocation.',
  },
  {
    name: 'rebalancing_needed',
    level: 'info',
    metric: 'weightDrift',
    comparison: '>',
    threshold: 0.1,
    source: 'score',
    valueOf: stat((u) => u.weightDrift ?? NaN, false),
    recommendation:
      'A position drifted more than 10 points from its target weight: schedule a rebalance.',
  },
  {
    name: 'var_exceeded',
    level: 'critical',
    metric: 'valueAtRisk',
    comparison: '>',
    threshold: 0.15,
    source: 'score',
    valueOf: stat((u) => -m(u, 'valueAtRisk')),
    recommendation:
      'Value at Risk is beyond 15 %: reduce gross exposure now; a risk-reduction job has been queued.',
    action: EMERGENCY_JOB.riskReduction,
  },
  {
    name: 'correlation_spike',
    level: 'warning',
    metric: 'correlation',
    comparison: '>',
    threshold: 0.8,
    source: 'score',
    valueOf: stat((u) => m(u, 'correlation')),
    recommendation:
      'Correlation to the benchmark is above 0.8: the strategy is close to beta; check diversification.',
  },
  {
    name: 'cpu_high',
    level: 'warning',
    metric: 'cpu',
    comparison: '>',
    threshold: 80,
    source: 'system',
    valueOf: sys((s) => s.cpu),
    recommendation:
      'CPU above 80 %: look for runaway processes or add capacity before latency suffers.',
  },
  {
    name: 'memory_high',
    level: 'warning',
    metric: 'memory',
    comparison: '>',
    threshold: 85,
    source: 'system',
    valueOf: sys((s) => s.memory),
    recommendation:
      'Memory above 85 %: check for leaks and large caches; the host is close to swapping.',
  },
  {
    name: 'api_slow',
    level: 'warning',
    metric: 'apiResponseTime',
    comparison: '>',
    threshold: 2.0,
    source: 'system',
    valueOf: sys((s) => s.apiResponseTime),
    recommendation: 'API response time above 2 s: check the probed service and its dependencies.',
  },
  {
    name: 'error_rate_high',
    level: 'critical',
    metric: 'errorRate',
    comparison: '>',
    threshold: 5,
    source: 'system',
    valueOf: sys((s) => s.errorRate),
    recommendation:
      'Error rate above 5 %: a system-check job has been queued; inspect failing probes and dead letters.',
    action: EMERGENCY_JOB.systemCheck,
  },
];

export function breaches(rule: Rule, value: number): boolean {
  return rule.comparison === '>' ? value > rule.threshold : value < rule.threshold;
}
