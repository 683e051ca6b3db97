import type { MetricValues } from '@quantmon/shared/metric-names';
import { compensatedSum } from './compensated-sum.js';
import { assertValidOptions, type MetricsOptions } from './options.js';
import { cvarCount, sortedPercentile } from './quantile.js';

/**
 * The batch reference: every metric recomputed directly from the series, in
 * the shape empyrical computes it (two-pass mean/std, wealth as a running
 * product). The incremental engine is tested against this function, and the
 * batch command uses it for whole-series results. See METRICS.md.
 */

type Obs = number | null;

/** null, NaN and +-Infinity are all "missing". */
export function isObserved(x: Obs | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  // A constant series' mean is its value exactly, so mean / 0 has a stable sign.
  if (isConstant(xs)) return xs[0] as number;
  return compensatedSum(xs) / xs.length;
}

function isConstant(xs: readonly number[]): boolean {
  const first = xs[0];
  for (const x of xs) if (x !== first) return false;
  return true;
}

/** Sample standard deviation (ddof = 1); exactly 0 when all values are equal. */
function sampleStd(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  if (isConstant(xs)) return 0;
  const m = mean(xs);
  return Math.sqrt(compensatedSum(xs.map((x) => (x - m) * (x - m))) / (n - 1));
}

interface Pairs {
  r: number[];
  b: number[];
}

function observedPairs(returns: readonly Obs[], benchmark: readonly Obs[]): Pairs {
  const r: number[] = [];
  const b: number[] = [];
  returns.forEach((x, i) => {
    const y = benchmark[i];
    if (isObserved(x) && isObserved(y)) {
      r.push(x);
      b.push(y);
    }
  });
  return { r, b };
}

/** empyrical.beta_aligned: population co-moments, var(b) < 1e-30 gives NaN. */
function beta(p: Pairs): number {
  if (p.b.length === 0) return Number.NaN;
  if (isConstant(p.b)) return Number.NaN;
  const mb = mean(p.b);
  const cov = compensatedSum(p.r.map((r, i) => ((p.b[i] as number) - mb) * r)) / p.b.length;
  const varB = compensatedSum(p.b.map((b) => (b - mb) * (b - mb))) / p.b.length;
  return varB < 1e-30 ? Number.NaN : cov / varB;
}

function correlation(p: Pairs): number {
  const n = p.r.length;
  if (n < 2 || isConstant(p.r) || isConstant(p.b)) return Number.NaN;
  const mr = mean(p.r);
  const mb = mean(p.b);
  const cov = compensatedSum(p.r.map((r, i) => (r - mr) * ((p.b[i] as number) - mb)));
  const vr = compensatedSum(p.r.map((r) => (r - mr) * (r - mr)));
  const vb = compensatedSum(p.b.map((b) => (b - mb) * (b - mb)));
  return Math.max(-1, Math.min(1, cov / Math.sqrt(vr * vb)));
}

/** Running wealth (missing = 0 return, losses beyond -100 % floored at 0). */
function drawdowns(returns: readonly Obs[]): { wealth: number; max: number; current: number } {
  let wealth = 1;
  let peak = 1; // W_0 = 1 counts as a peak, as in empyrical.max_drawdown
  let max = 0;
  for (const r of returns) {
    if (isObserved(r)) wealth *= 1 + Math.max(r, -1);
    if (wealth > peak) peak = wealth;
    const dd = wealth / peak - 1;
    if (dd < max) max = dd;
  }
  return { wealth, max, current: wealth / peak - 1 };
}

export function computeMetrics(
  returns: readonly Obs[],
  benchmark: readonly Obs[] | undefined,
  opts: MetricsOptions,
): MetricValues {
  assertValidOptions(opts);
  if (benchmark !== undefined && benchmark.length !== returns.length) {
    throw new RangeError(
      `benchmark has ${benchmark.length} values but returns has ${returns.length}`,
    );
  }
  const { periodsPerYear: ann, riskFree: rf, requiredReturn: mar, varCutoff } = opts;
  const sqrtAnn = Math.sqrt(ann);
  const n = returns.length; // empyrical's len(returns): missing observations count
  const valid = returns.filter(isObserved);
  const nv = valid.length;

  const dd = drawdowns(returns);
  const cumulativeReturn = n === 0 ? NaN : dd.wealth - 1;
  const annualReturn = n === 0 ? NaN : dd.wealth ** (ann / n) - 1;
  const maxDrawdown = n === 0 ? NaN : dd.max;
  const std = sampleStd(valid);
  const annualVolatility = n < 2 ? NaN : std * sqrtAnn;

  const excess = valid.map((r) => r - rf);
  const sharpeRatio = n < 2 ? NaN : (mean(excess) / sampleStd(excess)) * sqrtAnn;

  const downside = valid.map((r) => {
    const y = Math.min(r - mar, 0);
    return y * y;
  });
  const downsideRisk = n < 1 || nv === 0 ? NaN : Math.sqrt(compensatedSum(downside) / nv) * sqrtAnn;
  const sortinoRatio = n < 2 ? NaN : (mean(valid.map((r) => r - mar)) * ann) / downsideRisk;

  const calmarRaw = maxDrawdown < 0 ? annualReturn / Math.abs(maxDrawdown) : NaN;
  const sorted = Float64Array.from(valid).sort();
  const k = cvarCount(nv, varCutoff);

  const omegaX = valid.map((r) => r - rf - mar);
  const omegaNum = compensatedSum(omegaX.filter((x) => x > 0));
  const omegaDen = -compensatedSum(omegaX.filter((x) => x < 0));

  const pairs = benchmark === undefined ? undefined : observedPairs(returns, benchmark);
  const np = pairs?.r.length ?? 0;
  const b = pairs === undefined || n < 2 ? NaN : beta(pairs);
  const alphaMean =
    pairs === undefined
      ? NaN
      : mean(pairs.r.map((r, i) => r - rf - b * ((pairs.b[i] as number) - rf)));
  const active = pairs === undefined ? [] : pairs.r.map((r, i) => r - (pairs.b[i] as number));
  const activeStd = sampleStd(active);

  const gains = compensatedSum(valid.filter((r) => r >= 0));
  const losses = compensatedSum(valid.filter((r) => r < 0));
  const nonZero = valid.filter((r) => r !== 0).length;

  return {
    cumulativeReturn,
    annualReturn,
    annualVolatility,
    sharpeRatio,
    downsideRisk,
    sortinoRatio,
    maxDrawdown,
    currentDrawdown: n === 0 ? NaN : dd.current,
    calmarRatio: Number.isFinite(calmarRaw) ? calmarRaw : NaN,
    valueAtRisk: sortedPercentile(sorted, nv, varCutoff),
    conditionalValueAtRisk: nv === 0 ? NaN : compensatedSum(Array.from(sorted.subarray(0, k))) / k,
    omegaRatio: n < 2 || !(omegaDen > 0) ? NaN : omegaNum / omegaDen,
    tailRatio:
      Math.abs(sortedPercentile(sorted, nv, 0.95)) / Math.abs(sortedPercentile(sorted, nv, 0.05)),
    beta: b,
    alpha: n < 2 ? NaN : (1 + alphaMean) ** ann - 1,
    correlation: pairs === undefined ? NaN : correlation(pairs),
    trackingError: np < 2 ? NaN : activeStd * sqrtAnn,
    informationRatio: np < 2 ? NaN : (mean(active) / activeStd) * sqrtAnn,
    winRate: nv === 0 ? NaN : nonZero === 0 ? 0 : valid.filter((r) => r > 0).length / nonZero,
    profitFactor: nv === 0 ? NaN : Math.abs(gains / losses),
    recoveryFactor: n === 0 ? NaN : Math.abs(compensatedSum(valid) - rf) / Math.abs(maxDrawdown),
    riskAdjustedReturn: annualReturn / annualVolatility,
  };
}
