/**
 * Order statistics with empyrical's conventions, over an ascending array. Shared
 * by the batch reference and the incremental engine so both read the same
 * definition; they differ only in how they keep the array sorted.
 */

/**
 * numpy.percentile's default ('linear') method: the value at fractional rank
 * h = (n - 1) * q, interpolated between its two neighbours. NaN when n is 0.
 */
export function sortedPercentile(sorted: ArrayLike<number>, n: number, q: number): number {
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo >= n - 1) return a;
  const frac = h - lo;
  if (frac === 0) return a;
  const b = sorted[lo + 1] as number;
  return a + (b - a) * frac;
}

/**
 * How many of the smallest returns empyrical's conditional_value_at_risk
 * averages: int((n - 1) * cutoff) + 1, i.e. the VaR's lower neighbour and
 * everything below it.
 */
export function cvarCount(n: number, cutoff: number): number {
  return n === 0 ? 0 : Math.floor((n - 1) * cutoff) + 1;
}
