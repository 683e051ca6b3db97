/**
 * Sliding-window drawdown over per-sample log-wealth increments g = log(1 + r),
 * as a FIFO: push() the newest sample, shift() the oldest, query() the window.
 *
 * Drawdown of a sequence is mergeable: for its prefix sums P_0 = 0, ..., P_m
 * keep
 *   sum   = P_m
 *   maxP  = max_j P_j           (>= 0, always finite)
 *   minP  = min_j P_j           (<= 0, -Infinity after a -100 % return)
 *   minDD = min_j (P_j - max_{s<=j} P_s)
 * and merge(L, R) = (L.sum + R.sum, max(L.maxP, L.sum + R.maxP),
 * min(L.minP, L.sum + R.minP), min(L.minDD, R.minDD, L.sum - L.maxP + R.minP)).
 * P_0 = 0 is the "W_0 = 1 is a peak" convention of empyrical.max_drawdown.
 * A -100 % return gives g = -Infinity; maxP is always finite, so no merge
 * computes Infinity - Infinity, and expm1(-Infinity) = -1 is the exact answer.
 *
 * The merge has no inverse, so the window is kept as two stacks (the classic
 * sliding-window aggregation): the newer samples ("back") as one running
 * aggregate, extended by one merge per push, and the older samples ("front")
 * as suffix aggregates, one per sample, so dropping the oldest is an index
 * step. When the front runs empty, the back becomes the front in one pass
 * (one merge per sample, O(1) amortised). query() is a single merge. This
 * replaced a segment tree over ring slots (O(log W) per push and per query),
 * which cost about a third of push + values() at W = 1000.
 *
 * Rounding cannot build up: every aggregate is recomputed from the stored g
 * values within two windows of pushes, when its samples go through a flip.
 */
// Fields of a front suffix aggregate. Its minP is never read: the front is
// always the left operand of a merge, and the flip carries minP in a local.
const SUM = 0;
const MAXP = 1;
const MINDD = 2;
const FIELDS = 3;

/** Slots a new window starts with; it doubles as it fills (see grow()). */
export const INITIAL_SLOTS = 16;

export class DrawdownWindow {
  /** Most samples the window holds. */
  private readonly cap: number;
  /** Slots allocated: grows by doubling up to cap, so a short window costs little. */
  private size: number;
  /** g of every sample in the window, in a ring of `size` slots starting at `head`. */
  private g: Float64Array;
  /** Front suffix aggregates: slot p (at FIELDS * p) covers p .. the front's newest. */
  private suffix: Float64Array;
  private head = 0;
  private frontLen = 0;
  private backLen = 0;
  // The back's aggregate; all zero is the identity (an empty sequence).
  private bSum = 0;
  private bMaxP = 0;
  private bMinP = 0;
  private bMinDD = 0;

  constructor(capacity: number, initialSlots = INITIAL_SLOTS) {
    this.cap = capacity;
    this.size = Math.min(capacity, initialSlots);
    this.g = new Float64Array(this.size);
    this.suffix = new Float64Array(FIELDS * this.size);
  }

  /** Bytes held by the window's arrays. */
  get bytes(): number {
    return this.g.byteLength + this.suffix.byteLength;
  }

  get length(): number {
    return this.frontLen + this.backLen;
  }

  /** Appends the newest sample's g. The caller keeps length <= capacity. */
  push(g: number): void {
    if (this.frontLen + this.backLen === this.size) this.grow();
    let p = this.head + this.frontLen + this.backLen;
    if (p >= this.size) p -= this.size;
    this.g[p] = g;
    this.backLen++;
    // merge(back, leaf g); the leaf is (g, max(g, 0), min(g, 0), min(g, 0)).
    const s = this.bSum;
    const lo = g < 0 ? g : 0;
    const cross = s - this.bMaxP + lo; // <= min(g, 0), so it covers the leaf's own minDD
    const next = s + g;
    if (next > this.bMaxP) this.bMaxP = next;
    if (next < this.bMinP) this.bMinP = next;
    if (cross < this.bMinDD) this.bMinDD = cross;
    this.bSum = next;
  }

  /** Drops the oldest sample; the window must not be empty. */
  shift(): void {
    if (this.frontLen === 0) this.flip();
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
    this.frontLen--;
  }

  /**
   * Doubles the slots (at most to cap), laying the ring out from slot 0 in
   * window order; the front's suffix aggregates move with their samples
   * (each covers a run of newer front samples, which keep their order).
   */
  private grow(): void {
    const next = Math.min(this.cap, this.size * 2);
    const g = new Float64Array(next);
    const suffix = new Float64Array(FIELDS * next);
    const n = this.frontLen + this.backLen;
    for (let j = 0, p = this.head; j < n; j++, p = p + 1 === this.size ? 0 : p + 1) {
      g[j] = this.g[p]!;
      if (j < this.frontLen)
        suffix.set(this.suffix.subarray(FIELDS * p, FIELDS * p + FIELDS), FIELDS * j);
    }
    this.g = g;
    this.suffix = suffix;
    this.size = next;
    this.head = 0;
  }

  /** Writes [sum, maxP, minDD] of the whole window (all 0 when it is empty). */
  query(out: Float64Array): void {
    if (this.frontLen === 0) {
      out[0] = this.bSum;
      out[1] = this.bMaxP;
      out[2] = this.bMinDD;
      return;
    }
    const t = this.suffix;
    const o = FIELDS * this.head;
    const fSum = t[o + SUM]!;
    const fMaxP = t[o + MAXP]!;
    const cross = fSum - fMaxP + this.bMinP;
    const fDD = t[o + MINDD]!;
    const dd = fDD < this.bMinDD ? fDD : this.bMinDD;
    const mx = fSum + this.bMaxP;
    out[0] = fSum + this.bSum;
    out[1] = fMaxP > mx ? fMaxP : mx;
    out[2] = dd < cross ? dd : cross;
  }

  /**
   * Turns the back into the front: suffix aggregates from the newest sample
   * to the oldest, each merge(leaf g, next suffix). With the next suffix A and
   * A.maxP >= 0 >= A.minP, that merge simplifies to
   *   (g + A.sum, max(0, g + A.maxP), min(0, g + A.minP),
   *    min(A.minDD, min(g, 0) + A.minP)).
   */
  private flip(): void {
    const t = this.suffix;
    const cap = this.size;
    let sum = 0;
    let maxP = 0;
    let minP = 0;
    let minDD = 0;
    let p = this.head + this.backLen - 1; // front is empty, so the back starts at head
    if (p >= cap) p -= cap;
    for (let j = 0; j < this.backLen; j++) {
      const g = this.g[p]!;
      const hi = g + maxP;
      const low = g + minP;
      const cross = (g < 0 ? g : 0) + minP;
      sum = g + sum;
      maxP = hi > 0 ? hi : 0;
      minP = low < 0 ? low : 0;
      if (cross < minDD) minDD = cross;
      const o = FIELDS * p;
      t[o + SUM] = sum;
      t[o + MAXP] = maxP;
      t[o + MINDD] = minDD;
      p = p === 0 ? cap - 1 : p - 1;
    }
    this.frontLen = this.backLen;
    this.backLen = 0;
    this.bSum = 0;
    this.bMaxP = 0;
    this.bMinP = 0;
    this.bMinDD = 0;
  }
}
