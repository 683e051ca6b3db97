import { AnchoredMoments } from './anchored-moments.js';
import { CompensatedSum } from './compensated-sum.js';

/**
 * Sliding moments of (return, benchmark) pairs where both were observed:
 * beta, alpha, correlation, and the active return d = r - b for tracking
 * error. d gets its own moments rather than var(r) + var(b) - 2 cov(r, b),
 * which cancels badly when a strategy tracks its benchmark closely.
 */
export class PairMoments {
  readonly r = new AnchoredMoments();
  readonly b = new AnchoredMoments();
  readonly active = new AnchoredMoments();
  private readonly rb = new CompensatedSum();

  get count(): number {
    return this.r.count;
  }

  add(r: number, b: number, seq: number): void {
    this.r.add(r, seq);
    this.b.add(b, seq);
    this.active.add(r - b, seq);
    this.rb.add(this.r.offset(r) * this.b.offset(b));
  }

  remove(r: number, b: number): void {
    this.rb.add(-(this.r.offset(r) * this.b.offset(b)));
    this.r.remove(r);
    this.b.remove(b);
    this.active.remove(r - b);
  }

  rebuild(anchorR: number, anchorB: number, anchorActive: number): void {
    this.r.rebuild(anchorR);
    this.b.rebuild(anchorB);
    this.active.rebuild(anchorActive);
    this.rb.reset();
  }

  accumulate(r: number, b: number): void {
    this.r.accumulate(r);
    this.b.accumulate(b);
    this.active.accumulate(r - b);
    this.rb.add(this.r.offset(r) * this.b.offset(b));
  }

  /** n * cov(r, b), the co-moment sum (r - mean r)(b - mean b). */
  private coMoment(): number {
    const n = this.count;
    return this.rb.value - (this.r.offsetSum() * this.b.offsetSum()) / n;
  }

  /** empyrical.beta_aligned: NaN when the population var(b) is below 1e-30. */
  beta(headSeq: number): number {
    const n = this.count;
    if (n === 0 || this.b.isConstant(headSeq)) return Number.NaN;
    const varB = this.b.squaredDeviations(headSeq) / n;
    return varB < 1e-30 ? Number.NaN : this.coMoment() / n / varB;
  }

  correlation(headSeq: number): number {
    if (this.count < 2 || this.r.isConstant(headSeq) || this.b.isConstant(headSeq)) {
      return Number.NaN;
    }
    const denom = Math.sqrt(this.r.squaredDeviations(headSeq) * this.b.squaredDeviations(headSeq));
    return Math.max(-1, Math.min(1, this.coMoment() / denom));
  }
}
