import { cvarCount } from './quantile.js';

/**
 * The window's observed returns in a treap (randomised balanced BST) whose
 * nodes also keep subtree sizes and sums: insert, remove, k-th smallest and
 * sum of the k smallest are all O(log W) expected. Used instead of
 * SortedWindow for large windows, where SortedWindow's memmove is O(W); at
 * W = 1000 the flat array wins (see bench/scorer.ts and METRICS.md).
 *
 * Subtree sums are recomputed from the children on every change along the
 * path, so the CVaR sum never drifts. Nodes live in typed arrays indexed by
 * slot (0 = nil), with a free list: no allocation per update.
 */
export class OrderStatisticTree {
  private readonly key: Float64Array;
  private readonly sum: Float64Array;
  private readonly prio: Float64Array;
  private readonly size: Int32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private root = 0;
  private seed = 0x9e3779b9;
  // split() results
  private splitL = 0;
  private splitR = 0;

  constructor(
    capacity: number,
    private readonly cutoff: number,
  ) {
    const n = capacity + 1;
    this.key = new Float64Array(n);
    this.sum = new Float64Array(n);
    this.prio = new Float64Array(n);
    this.size = new Int32Array(n);
    this.left = new Int32Array(n);
    this.right = new Int32Array(n);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - i;
    this.freeTop = capacity;
  }

  get length(): number {
    return this.size[this.root]!;
  }

  insert(x: number): void {
    const node = this.free[--this.freeTop]!;
    this.key[node] = x;
    this.sum[node] = x;
    this.size[node] = 1;
    this.left[node] = 0;
    this.right[node] = 0;
    this.prio[node] = this.random();
    this.split(this.root, x); // keys <= x go left, so equal keys stay in order
    const l = this.splitL;
    const r = this.splitR;
    this.root = this.merge(this.merge(l, node), r);
  }

  /** Removes one copy of x; x must be present. */
  remove(x: number): void {
    const before = this.length;
    this.root = this.removeFrom(this.root, x);
    if (this.length === before)
      throw new Error(`OrderStatisticTree.remove: ${x} is not in the window`);
  }

  replace(out: number, x: number): void {
    this.remove(out);
    this.insert(x);
  }

  /** numpy's linear percentile, as sortedPercentile. */
  percentile(q: number): number {
    const n = this.length;
    if (n === 0) return Number.NaN;
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    const a = this.kth(lo);
    if (lo >= n - 1) return a;
    const frac = h - lo;
    if (frac === 0) return a;
    const b = this.kth(lo + 1);
    return a + (b - a) * frac;
  }

  tailMean(): number {
    const k = cvarCount(this.length, this.cutoff);
    return k === 0 ? Number.NaN : this.sumSmallest(k) / k;
  }

  /** Nothing accumulates here: sums are recomputed on every path change. */
  resync(): void {}

  /** k-th smallest, 0-based. */
  private kth(k: number): number {
    let t = this.root;
    for (;;) {
      const ls = this.size[this.left[t]!]!;
      if (k < ls) t = this.left[t]!;
      else if (k === ls) return this.key[t]!;
      else {
        k -= ls + 1;
        t = this.right[t]!;
      }
    }
  }

  private sumSmallest(k: number): number {
    let t = this.root;
    let acc = 0;
    while (k > 0 && t !== 0) {
      const l = this.left[t]!;
      const ls = this.size[l]!;
      if (k <= ls) t = l;
      else {
        acc += this.sum[l]! + this.key[t]!;
        k -= ls + 1;
        t = this.right[t]!;
      }
    }
    return acc;
  }

  private pull(t: number): void {
    const l = this.left[t]!;
    const r = this.right[t]!;
    this.size[t] = this.size[l]! + this.size[r]! + 1;
    this.sum[t] = this.sum[l]! + this.key[t]! + this.sum[r]!;
  }

  /** Splits t into keys <= x (splitL) and keys > x (splitR). */
  private split(t: number, x: number): void {
    if (t === 0) {
      this.splitL = this.splitR = 0;
      return;
    }
    if (this.key[t]! <= x) {
      this.split(this.right[t]!, x);
      this.right[t] = this.splitL;
      this.pull(t);
      this.splitL = t;
    } else {
      this.split(this.left[t]!, x);
      this.left[t] = this.splitR;
      this.pull(t);
      this.splitR = t;
    }
  }

  private merge(a: number, b: number): number {
    if (a === 0) return b;
    if (b === 0) return a;
    if (this.prio[a]! > this.prio[b]!) {
      this.right[a] = this.merge(this.right[a]!, b);
      this.pull(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]!);
    this.pull(b);
    return b;
  }

  private removeFrom(t: number, x: number): number {
    if (t === 0) return 0;
    const k = this.key[t]!;
    if (k === x) {
      this.free[this.freeTop++] = t;
      return this.merge(this.left[t]!, this.right[t]!);
    }
    if (x < k) this.left[t] = this.removeFrom(this.left[t]!, x);
    else this.right[t] = this.removeFrom(this.right[t]!, x);
    this.pull(t);
    return t;
  }

  /** xorshift32: priorities only need to be well spread, not secure. */
  private random(): number {
    let s = this.seed;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.seed = s >>> 0;
    return this.seed;
  }
}
