/**
 * Options shared by the batch reference and the incremental engine. Every
 * rate here is per period (one sample), never annual, so the two engines and
 * the batch command agree on what a number means.
 */
export interface MetricsOptions {
  /** Periods per year used to annualise (252 for daily samples). */
  periodsPerYear: number;
  /** Risk-free return per period, subtracted by Sharpe, omega, alpha. */
  riskFree: number;
  /** Minimum acceptable return per period (MAR) for downside risk, Sortino, omega. */
  requiredReturn: number;
  /** Tail probability for VaR / CVaR (0.05 = the 5th percentile). */
  varCutoff: number;
  /** Count window: the last `window` observations, missing ones included. */
  window: number;
  /** Optional time window: samples with ts < latest ts - windowMs are evicted too. */
  windowMs?: number;
}

export const DEFAULT_METRICS_OPTIONS: MetricsOptions = Object.freeze({
  periodsPerYear: 252,
  riskFree: 0,
  requiredReturn: 0,
  varCutoff: 0.05,
  window: 1000,
});

/**
 * Throws a RangeError naming the first bad option. Called by both engines so a
 * bad configuration fails at construction instead of producing NaN forever.
 */
export function assertValidOptions(opts: MetricsOptions): void {
  if (!(Number.isFinite(opts.periodsPerYear) && opts.periodsPerYear > 0)) {
    throw new RangeError(`periodsPerYear must be a positive number, got ${opts.periodsPerYear}`);
  }
  if (!Number.isFinite(opts.riskFree)) {
    throw new RangeError(`riskFree must be a finite number, got ${opts.riskFree}`);
  }
  if (!Number.isFinite(opts.requiredReturn)) {
    throw new RangeError(`requiredReturn must be a finite number, got ${opts.requiredReturn}`);
  }
  if (!(opts.varCutoff >= 0 && opts.varCutoff <= 1)) {
    throw new RangeError(`varCutoff must be within [0, 1], got ${opts.varCutoff}`);
  }
  if (!(Number.isInteger(opts.window) && opts.window >= 1)) {
    throw new RangeError(`window must be an integer >= 1, got ${opts.window}`);
  }
  if (opts.windowMs !== undefined && !(opts.windowMs > 0)) {
    throw new RangeError(`windowMs must be a positive number, got ${opts.windowMs}`);
  }
}
