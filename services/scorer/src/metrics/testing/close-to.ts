import { METRIC_NAMES, type MetricValues } from '@quantmon/shared/metric-names';

/**
 * Relative comparison with NaN == NaN and Infinity == Infinity. The absolute
 * floor covers values that are zero up to rounding (e.g. alpha of a strategy
 * against itself), where a purely relative test is meaningless.
 */
export function closeTo(a: number, b: number, rel = 1e-9, abs = 1e-12): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + abs;
}

/** Names and values of the metrics that differ, for a readable failure. */
export function metricDifferences(
  actual: MetricValues,
  expected: MetricValues,
  rel = 1e-9,
  abs = 1e-12,
): string[] {
  return METRIC_NAMES.filter((m) => !closeTo(actual[m], expected[m], rel, abs)).map(
    (m) => `${m}: incremental ${actual[m]} vs batch ${expected[m]}`,
  );
}
