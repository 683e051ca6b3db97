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
 * slots, queried in chronological order. The four fields of a node sit next
 * to each other in one Float64Array (node i at 4i) so a level costs one
 * cache line, and min/max are ternaries: both measured faster than four
 * arrays and Math.min/Math.max here.
 */
const SUM = 0;
const MAXP = 1;
const MINP = 2;
const MINDD = 3;

export class DrawdownTree {
  private readonly base: number;
  private readonly node: Float64Array;

  constructor(capacity: number) {
    let base = 1;
    while (base < capacity) base *= 2;
    this.base = base;
    // Zero-filled nodes are the identity (an empty range).
    this.node = new Float64Array(8 * base);
  }

  /** Sets slot `pos` to the log-wealth increment g and repairs its ancestors. */
  set(pos: number, g: number): void {
    const t = this.node;
    let i = this.base + pos;
    let o = 4 * i;
    t[o + SUM] = g;
    t[o + MAXP] = g > 0 ? g : 0;
    t[o + MINP] = g < 0 ? g : 0;
    t[o + MINDD] = g < 0 ? g : 0;
    for (i >>= 1; i >= 1; i >>= 1) {
      o = 4 * i;
      const l = 2 * o; // 4 * (2i)
      const r = l + 4;
      const sl = t[l + SUM]!;
      const maxL = t[l + MAXP]!;
      const minL = t[l + MINP]!;
      const ddL = t[l + MINDD]!;
      const sr = t[r + SUM]!;
      const maxR = sl + t[r + MAXP]!;
      const minR = sl + t[r + MINP]!;
      const ddR = t[r + MINDD]!;
      const cross = sl - maxL + t[r + MINP]!;
      t[o + SUM] = sl + sr;
      t[o + MAXP] = maxL > maxR ? maxL : maxR;
      t[o + MINP] = minL < minR ? minL : minR;
      const dd = ddL < ddR ? ddL : ddR;
      t[o + MINDD] = dd < cross ? dd : cross;
    }
  }

  /**
   * Aggregates `count` slots starting at `start`, wrapping at `capacity`, in
   * chronological order. Writes [sum, maxP, minDD] to `out`.
   */
  query(start: number, count: number, capacity: number, out: Float64Array): void {
    const t = this.node;
    const base = this.base;
    // acc = everything merged so far, left to right (its minP is never needed).
    let as = 0;
    let amax = 0;
    let add = 0;
    const end = start + count;
    for (let part = 0; part < 2; part++) {
      const lo = part === 0 ? start : 0;
      const hi = part === 0 ? (end < capacity ? end : capacity) : end - capacity;
      if (hi <= lo) continue;
      // Bottom-up walk: left nodes append to acc, right nodes prepend to the
      // right-hand accumulator r*, merged into acc at the end.
      let rs = 0;
      let rmax = 0;
      let rmin = 0;
      let rdd = 0;
      for (let l = lo + base, r = hi + base; l < r; l >>= 1, r >>= 1) {
        if (l & 1) {
          const o = 4 * l++;
          const cross = as - amax + t[o + MINP]!;
          const mx = as + t[o + MAXP]!;
          const dd = t[o + MINDD]!;
          if (mx > amax) amax = mx;
          if (dd < add) add = dd;
          if (cross < add) add = cross;
          as += t[o + SUM]!;
        }
        if (r & 1) {
          const o = 4 * --r;
          const s = t[o + SUM]!;
          const cross = s - t[o + MAXP]! + rmin;
          const dd = t[o + MINDD]!;
          const mx = s + rmax;
          const mn = s + rmin;
          rdd = dd < rdd ? dd : rdd;
          if (cross < rdd) rdd = cross;
          rmax = t[o + MAXP]! > mx ? t[o + MAXP]! : mx;
          rmin = t[o + MINP]! < mn ? t[o + MINP]! : mn;
          rs += s;
        }
      }
      const cross = as - amax + rmin;
      const mx = as + rmax;
      if (mx > amax) amax = mx;
      if (rdd < add) add = rdd;
      if (cross < add) add = cross;
      as += rs;
    }
    out[0] = as;
    out[1] = amax;
    out[2] = add;
  }
}
