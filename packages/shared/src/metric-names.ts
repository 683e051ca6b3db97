/**
 * The per-strategy metrics the scorer computes, in one list so that the score
 * update schema, the batch command and the dashboard agree on the names.
 * Conventions follow empyrical (see services/scorer/src/metrics).
 */
export const METRIC_NAMES = [
  'cumulativeReturn',
  'annualReturn',
  'annualVolatility',
  'sharpeRatio',
  'downsideRisk',
  'sortinoRatio',
  'maxDrawdown',
  'currentDrawdown',
  'calmarRatio',
  'valueAtRisk',
  'conditionalValueAtRisk',
  'omegaRatio',
  'tailRatio',
  'beta',
  'alpha',
  'correlation',
  'trackingError',
  'informationRatio',
  'winRate',
  'profitFactor',
  'recoveryFactor',
  'riskAdjustedReturn',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/** Raw engine output: NaN and +-Infinity are allowed here, mapped at the boundary. */
export type MetricValues = Record<MetricName, number>;
