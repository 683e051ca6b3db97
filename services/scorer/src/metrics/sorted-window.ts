import { CompensatedSum } from './compensated-sum.js';
import { cvarCount, sortedPercentile } from './quantile.js';

/**
 * The window's observed returns kept in ascending order in one Float64Array:
 * binary search, then copyWithin (a memmove) to open or close the slot. At
 * W = 1000 the move is ~4 KB and beats a balanced tree's pointer chasing; the
 * benchmark (bench/scorer.ts) prints the comparison at W = 100 000 too.
 *
 * It also keeps the sum of the k smallest values, k = int((n - 1) * cutoff) + 1,
 * updated in O(1) per insert/remove, so CVaR never sums the tail.
 */
export class SortedWindow {
  /** Grows by doubling up to capacity as the window fills: a short window costs little. */
  private data: Float64Array;
  private size = 0;
  private k = 0;
  private readonly bottom = new CompensatedSum();

  constructor(
    private readonly capacity: number,
    private readonly cutoff: number,
    initialSlots = 16,
  ) {
    this.data = new Float64Array(Math.min(capacity, initialSlots));
  }

  /** Bytes held by the value array. */
  get bytes(): number {
    return this.data.byteLength;
  }

  get length(): number {
    return this.size;
  }

  insert(x: number): void {
    if (this.size === this.data.length) {
      const grown = new Float64Array(Math.min(this.capacity, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    const d = this.data;
    const i = this.upperBound(x);
    d.copyWithin(i + 1, i, this.size);
    d[i] = x;
    this.size++;
    // x pushed the old k-th smallest (now at index k) out of the bottom set.
    if (i < this.k) {
      this.bottom.add(x);
      this.bottom.add(-d[this.k]!);
    }
    this.rebalance();
  }

  /** Removes one copy of x; x must be present. */
  remove(x: number): void {
    const d = this.data;
    const i = this.lowerBound(x);
    if (i >= this.size || d[i] !== x)
      throw new Error(`SortedWindow.remove: ${x} is not in the window`);
    d.copyWithin(i, i + 1, this.size);
    this.size--;
    if (i < this.k) {
      this.bottom.add(-x);
      // The next-smallest value slid into the bottom set, if there is one.
      if (this.k - 1 < this.size) this.bottom.add(d[this.k - 1]!);
      else this.k = this.size;
    }
    this.rebalance();
  }

  /**
   * remove(out) then insert(x) as one step, for a full window: a single
   * memmove of only the values between the two positions (a third of the
   * window on average instead of all of it), and the bottom sum adjusted once.
   */
  replace(out: number, x: number): void {
    const d = this.data;
    // Both binary searches in one loop (the branch-free steps below): the two
    // chains of loads are independent, so the CPU overlaps them.
    let i = 0; // lower bound of out
    let u = 0; // upper bound of x
    const n = this.size;
    for (let len = n; len > 1;) {
      const half = len >>> 1;
      i += half * +(d[i + half - 1]! < out);
      u += half * +(d[u + half - 1]! <= x);
      len -= half;
    }
    if (n > 0) {
      i += +(d[i]! < out);
      u += +(d[u]! <= x);
    }
    if (i >= n || d[i] !== out) {
      throw new Error(`SortedWindow.replace: ${out} is not in the window`);
    }
    let f: number; // final index of x
    if (u > i) {
      d.copyWithin(i, i + 1, u);
      f = u - 1;
    } else {
      d.copyWithin(u + 1, u, i);
      f = u;
    }
    d[f] = x;
    // The bottom set is final[0, k); size and k are unchanged.
    const k = this.k;
    if (i < k) {
      this.bottom.add(-out);
      this.bottom.add(f < k ? x : d[k - 1]!);
    } else if (f < k) {
      this.bottom.add(x);
      this.bottom.add(-d[k]!);
    }
  }

  percentile(q: number): number {
    return sortedPercentile(this.data, this.size, q);
  }

  /** Mean of the k smallest values: empyrical's conditional_value_at_risk. */
  tailMean(): number {
    return this.k === 0 ? Number.NaN : this.bottom.value / this.k;
  }

  /** Recomputes the bottom sum from scratch, discarding accumulated rounding. */
  resync(): void {
    this.bottom.reset();
    for (let i = 0; i < this.k; i++) this.bottom.add(this.data[i]!);
  }

  private rebalance(): void {
    const target = cvarCount(this.size, this.cutoff);
    while (this.k < target) this.bottom.add(this.data[this.k++]!);
    while (this.k > target) this.bottom.add(-this.data[--this.k]!);
  }

  /*
   * Binary searches without a data-dependent branch: each step adds half or 0
   * as `half * +(comparison)`, a multiply by 0 or 1 rather than an if (an
   * if/else or a ternary here measured as slow as the branchy search). Which
   * way a step goes is a coin toss on real data, so a branch is mispredicted
   * about every other step. At W = 1000 the two searches of a replace() took
   * 150 ns with branches, 73 ns branch-free, 57 ns fused into one loop.
   * Invariant: the answer lies in [base, base + len].
   */

  /** First index whose value is >= x. */
  private lowerBound(x: number): number {
    const d = this.data;
    const n = this.size;
    let base = 0;
    for (let len = n; len > 1;) {
      const half = len >>> 1;
      base += half * +(d[base + half - 1]! < x);
      len -= half;
    }
    return n === 0 ? 0 : base + +(d[base]! < x);
  }

  /** First index whose value is > x. */
  private upperBound(x: number): number {
    const d = this.data;
    const n = this.size;
    let base = 0;
    for (let len = n; len > 1;) {
      const half = len >>> 1;
      base += half * +(d[base + half - 1]! <= x);
      len -= half;
    }
    return n === 0 ? 0 : base + +(d[base]! <= x);
  }
}
