import { toMetricValue, type MetricValues, type StrategyMetrics } from '@quantmon/shared';

/**
 * The engine's metrics read out by name, in METRIC_NAMES order, for the
 * two places that read every metric of every update or folded sample.
 *
 * Why by name, spelled out, rather than a loop over METRIC_NAMES: a read by
 * a computed name (values[METRIC_NAMES[i]]) returns each number as a new
 * heap object, and Object.fromEntries over METRIC_NAMES.map(...) makes an
 * array per metric besides: together ~550 bytes a sample of the scorer's
 * ~2 KB (apply, build, encode; measured with V8's allocation sampler,
 * docs/performance.md, "twenty-eighth session"). Every allocation brings
 * the next young-generation collection closer, and each one stops the
 * scorer. metric-fields.test.ts checks both orders against METRIC_NAMES.
 */

/** The metrics into `row` (indices 0 to 21), unboxed. */
export function metricRow(v: MetricValues, row: Float64Array): void {
  row[0] = v.cumulativeReturn;
  row[1] = v.annualReturn;
  row[2] = v.annualVolatility;
  row[3] = v.sharpeRatio;
  row[4] = v.downsideRisk;
  row[5] = v.sortinoRatio;
  row[6] = v.maxDrawdown;
  row[7] = v.currentDrawdown;
  row[8] = v.calmarRatio;
  row[9] = v.valueAtRisk;
  row[10] = v.conditionalValueAtRisk;
  row[11] = v.omegaRatio;
  row[12] = v.tailRatio;
  row[13] = v.beta;
  row[14] = v.alpha;
  row[15] = v.correlation;
  row[16] = v.trackingError;
  row[17] = v.informationRatio;
  row[18] = v.winRate;
  row[19] = v.profitFactor;
  row[20] = v.recoveryFactor;
  row[21] = v.riskAdjustedReturn;
}

/** The metrics as an update carries them (NaN as null, infinities as strings). */
export function wireMetrics(v: MetricValues): StrategyMetrics {
  return {
    cumulativeReturn: toMetricValue(v.cumulativeReturn),
    annualReturn: toMetricValue(v.annualReturn),
    annualVolatility: toMetricValue(v.annualVolatility),
    sharpeRatio: toMetricValue(v.sharpeRatio),
    downsideRisk: toMetricValue(v.downsideRisk),
    sortinoRatio: toMetricValue(v.sortinoRatio),
    maxDrawdown: toMetricValue(v.maxDrawdown),
    currentDrawdown: toMetricValue(v.currentDrawdown),
    calmarRatio: toMetricValue(v.calmarRatio),
    valueAtRisk: toMetricValue(v.valueAtRisk),
    conditionalValueAtRisk: toMetricValue(v.conditionalValueAtRisk),
    omegaRatio: toMetricValue(v.omegaRatio),
    tailRatio: toMetricValue(v.tailRatio),
    beta: toMetricValue(v.beta),
    alpha: toMetricValue(v.alpha),
    correlation: toMetricValue(v.correlation),
    trackingError: toMetricValue(v.trackingError),
    informationRatio: toMetricValue(v.informationRatio),
    winRate: toMetricValue(v.winRate),
    profitFactor: toMetricValue(v.profitFactor),
    recoveryFactor: toMetricValue(v.recoveryFactor),
    riskAdjustedReturn: toMetricValue(v.riskAdjustedReturn),
  };
}
