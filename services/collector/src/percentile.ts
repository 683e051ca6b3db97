/**
 * Nearest-rank percentile (p in (0, 100]) of values sorted ascending:
 * always one of the values, p = 100 is the maximum. Undefined when empty.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1];
}

export function percentile(values: readonly number[], p: number): number | undefined {
  return percentileSorted(Float64Array.from(values).sort(), p);
}
