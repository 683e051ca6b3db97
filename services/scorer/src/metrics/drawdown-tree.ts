/**
 * Sliding-window drawdown in O(log W): a segment tree over per-sample
 * log-wealth increments g = log(1 + r). Drawdown of a window is mergeable:
 * each node keeps, for its range with prefix sums P_0 = 0, P_1, ..., P_m,
 *   sum   = P_m
 *   maxP  = max_j P_j           (>= 0, always finite)
 *   minP  = min_j P_j           (<= 0, -Infinity after a -100 % return)
 *   minDD = min_j (P_j - max_{s<=j} P_s)
 * and merge(L, R).minDD = min(L.minDD, R.minDD, L.sum - L.maxP + R.minP).
 * P_0 = 0 is the "W_0 = 1 is a peak" convention of empyrical.max_drawdown.
 * A -100 % return gives g = -Infinity; since maxP is finite, no merge ever
 * computes Infinity - Infinity, and expm1(-Infinity) = -1 is the exact answer.
 *
 * Leaves are ring-buffer slots; the window is a (possibly wrapped) range of
 * slots, queried in chronological order.
 */
export class DrawdownTree {
  private readonly base: number;
  private readonly sum: Float64Array;
  private readonly maxP: Float64Array;
  private readonly minP: Float64Array;
  private readonly minDD: Float64Array;
  // Query accumulators: left-to-right result and right-to-left result.
  private ls = 0;
  private lmax = 0;
  private lmin = 0;
  private ldd = 0;
  private rs = 0;
  private rmax = 0;
  private rmin = 0;
  private rdd = 0;

  constructor(capacity: number) {
    let base = 1;
    while (base < capacity) base *= 2;
    this.base = base;
    // Zero-filled nodes are the identity (an empty range).
    this.sum = new Float64Array(2 * base);
    this.maxP = new Float64Array(2 * base);
    this.minP = new Float64Array(2 * base);
    this.minDD = new Float64Array(2 * base);
  }

  /** Sets slot `pos` to the log-wealth increment g and repairs its ancestors. */
  set(pos: number, g: number): void {
    let i = this.base + pos;
    this.sum[i] = g;
    this.maxP[i] = g > 0 ? g : 0;
    this.minP[i] = g < 0 ? g : 0;
    this.minDD[i] = g < 0 ? g : 0;
    const { sum, maxP, minP, minDD } = this;
    for (i >>= 1; i >= 1; i >>= 1) {
      const l = 2 * i;
      const r = l + 1;
      const sl = sum[l]!;
      const maxL = maxP[l]!;
      sum[i] = sl + sum[r]!;
      maxP[i] = Math.max(maxL, sl + maxP[r]!);
      minP[i] = Math.min(minP[l]!, sl + minP[r]!);
      minDD[i] = Math.min(minDD[l]!, minDD[r]!, sl - maxL + minP[r]!);
    }
  }

  /**
   * Aggregates `count` slots starting at `start`, wrapping at `capacity`.
   * Returns [sum, maxP, minDD] in `out`.
   */
  query(start: number, count: number, capacity: number, out: Float64Array): void {
    this.ls = this.lmax = this.lmin = this.ldd = 0;
    const end = start + count;
    if (end <= capacity) {
      this.range(start, end);
    } else {
      this.range(start, capacity);
      this.range(0, end - capacity);
    }
    out[0] = this.ls;
    out[1] = this.lmax;
    out[2] = this.ldd;
  }

  /** Appends the slots [lo, hi) to the left accumulator. */
  private range(lo: number, hi: number): void {
    this.rs = this.rmax = this.rmin = this.rdd = 0;
    let l = lo + this.base;
    let r = hi + this.base;
    while (l < r) {
      if (l & 1) this.appendLeft(l++);
      if (r & 1) this.prependRight(--r);
      l >>= 1;
      r >>= 1;
    }
    // left = left ++ right
    const s = this.ls;
    const mx = this.lmax;
    this.ls = s + this.rs;
    this.lmax = Math.max(mx, s + this.rmax);
    this.lmin = Math.min(this.lmin, s + this.rmin);
    this.ldd = Math.min(this.ldd, this.rdd, s - mx + this.rmin);
  }

  private appendLeft(i: number): void {
    const s = this.ls;
    const mx = this.lmax;
    const bmin = this.minP[i]!;
    this.ls = s + this.sum[i]!;
    this.lmax = Math.max(mx, s + this.maxP[i]!);
    this.lmin = Math.min(this.lmin, s + bmin);
    this.ldd = Math.min(this.ldd, this.minDD[i]!, s - mx + bmin);
  }

  private prependRight(i: number): void {
    const s = this.sum[i]!;
    const mx = this.maxP[i]!;
    const rmin = this.rmin;
    this.rdd = Math.min(this.minDD[i]!, this.rdd, s - mx + rmin);
    this.rmax = Math.max(mx, s + this.rmax);
    this.rmin = Math.min(this.minP[i]!, s + rmin);
    this.rs = s + this.rs;
  }
}
