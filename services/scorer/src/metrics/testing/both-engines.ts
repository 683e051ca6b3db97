import type { MetricValues } from '@quantmon/shared/metric-names';
import { computeMetrics } from '../batch.js';
import { DEFAULT_METRICS_OPTIONS, type MetricsOptions } from '../options.js';
import { RollingMetrics } from '../rolling-metrics.js';

type Obs = number | null;

/**
 * Runs a whole series through the batch reference and through the
 * incremental engine (window = series length), so published expected values
 * check both.
 */
export function bothEngines(
  returns: readonly Obs[],
  benchmark?: readonly Obs[],
  overrides: Partial<MetricsOptions> = {},
): { name: string; values: MetricValues }[] {
  const opts: MetricsOptions = {
    ...DEFAULT_METRICS_OPTIONS,
    ...overrides,
    window: Math.max(1, returns.length),
  };
  const engine = new RollingMetrics(opts);
  returns.forEach((r, i) => engine.push(r, benchmark?.[i] ?? null, i));
  return [
    { name: 'batch', values: computeMetrics(returns, benchmark, opts) },
    { name: 'incremental', values: engine.values() },
  ];
}

/** Rolling values over every full window, as empyrical's roll_* functions return them. */
export function rollingWindows(
  returns: readonly Obs[],
  benchmark: readonly Obs[] | undefined,
  window: number,
  overrides: Partial<MetricsOptions> = {},
): MetricValues[] {
  const engine = new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, ...overrides, window });
  const out: MetricValues[] = [];
  returns.forEach((r, i) => {
    engine.push(r, benchmark?.[i] ?? null, i);
    if (i >= window - 1) out.push(engine.values());
  });
  return out;
}

/**
 * numpy.testing.assert_almost_equal semantics: |actual - desired| < 1.5 * 10^-decimal,
 * NaN matches NaN and infinities must match exactly.
 */
export function almostEqual(actual: number, desired: number, decimal: number): boolean {
  if (Number.isNaN(desired)) return Number.isNaN(actual);
  if (!Number.isFinite(desired)) return actual === desired;
  return Math.abs(desired - actual) < 1.5 * 10 ** -decimal;
}
