import { CompensatedSum } from './compensated-sum.js';

/**
 * Count, mean and sample variance of a sliding window of numbers, from
 * compensated sums of (x - anchor) and (x - anchor)^2. The anchor is moved to
 * the window mean every W pushes (the owner calls rebuild + accumulate), which
 * both resets accumulated rounding and keeps the sums small, so
 * s2 - s1^2 / n does not cancel catastrophically when |mean| >> std.
 *
 * Exactly constant windows are detected with a run tracker instead of trusting
 * the sums: their variance is exactly 0 and their mean exactly the value, as in
 * the batch reference, so mean / std has a stable +-Infinity or NaN.
 */
export class AnchoredMoments {
  private anchor = 0;
  private n = 0;
  private readonly s1 = new CompensatedSum();
  private readonly s2 = new CompensatedSum();
  // The current run of equal values started after the observation with seq
  // runStart - 1; if that one has left the window, the window is constant.
  private runValue = Number.NaN;
  private runStart = 0;
  private lastSeq = -1;

  get count(): number {
    return this.n;
  }

  get origin(): number {
    return this.anchor;
  }

  /** Adds an observation; seq is its position in the whole stream. */
  add(x: number, seq: number): void {
    this.accumulate(x);
    if (x !== this.runValue) {
      this.runValue = x;
      this.runStart = this.lastSeq + 1;
    }
    this.lastSeq = seq;
  }

  remove(x: number): void {
    const d = x - this.anchor;
    this.n--;
    this.s1.add(-d);
    this.s2.add(-(d * d));
  }

  /** Adds to the sums only (used when rebuilding; the run is unchanged). */
  accumulate(x: number): void {
    const d = x - this.anchor;
    this.n++;
    this.s1.add(d);
    this.s2.add(d * d);
  }

  /** Empties the sums and moves the anchor; the owner re-accumulates the window. */
  rebuild(anchor: number): void {
    this.anchor = anchor;
    this.n = 0;
    this.s1.reset();
    this.s2.reset();
  }

  /** True when every observation in the window (which starts at headSeq) is equal. */
  isConstant(headSeq: number): boolean {
    return this.n > 0 && this.runStart <= headSeq;
  }

  mean(headSeq: number): number {
    if (this.n === 0) return Number.NaN;
    if (this.isConstant(headSeq)) return this.runValue;
    return this.anchor + this.s1.value / this.n;
  }

  sum(headSeq: number): number {
    if (this.isConstant(headSeq)) return this.runValue * this.n;
    return this.anchor * this.n + this.s1.value;
  }

  /** Sum of squared deviations from the mean, sum (x - mean)^2. */
  squaredDeviations(headSeq: number): number {
    if (this.n === 0 || this.isConstant(headSeq)) return 0;
    const s1 = this.s1.value;
    return Math.max(0, this.s2.value - (s1 * s1) / this.n);
  }

  /** Sample variance (ddof = 1); NaN below two observations. */
  variance(headSeq: number): number {
    return this.n < 2 ? Number.NaN : this.squaredDeviations(headSeq) / (this.n - 1);
  }

  /**
   * True when s2 - s1^2 / n has cancelled away more than ~3 of its 16 digits:
   * the window's spread is tiny next to its distance from the anchor (say a
   * quiet window after a regime change). The owner then rebuilds around the
   * current mean, which restores full precision until the mean drifts by
   * another ~30 standard deviations, so this stays rare and O(1) amortised on
   * real data.
   */
  illConditioned(headSeq: number): boolean {
    if (this.n < 2 || this.isConstant(headSeq)) return false;
    const s1 = this.s1.value;
    const shift = (s1 * s1) / this.n;
    return shift > 1e3 * (this.s2.value - shift);
  }

  /** x measured from the anchor, for co-moments kept by the owner. */
  offset(x: number): number {
    return x - this.anchor;
  }

  /** Sum of offsets, sum (x - anchor). */
  offsetSum(): number {
    return this.s1.value;
  }
}
