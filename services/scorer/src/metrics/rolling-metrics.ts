import type { MetricValues } from '@quantmon/shared/metric-names';
import { AnchoredMoments } from './anchored-moments.js';
import { isObserved } from './batch.js';
import { DrawdownWindow, INITIAL_SLOTS } from './drawdown-window.js';
import { assertValidOptions, type MetricsOptions } from './options.js';
import { OrderStatisticTree } from './order-statistic-tree.js';
import { PairMoments } from './pair-moments.js';
import { SortedWindow } from './sorted-window.js';
import { SplitSum } from './split-sum.js';

/**
 * Above this window the sorted array's O(W) memmove loses to the treap's
 * O(log W) (crossover measured between 30 000 and 100 000 on node 20; see
 * bench/scorer.ts --order-stats).
 */
export const ORDER_TREE_MIN_WINDOW = 50_000;

/**
 * Sums are rebuilt from the ring every REBUILD_WINDOWS * W pushes. Compensated
 * sums drift by well under 1e-15 per window, so 8 windows keeps the rebuild's
 * amortised cost low without coming near the 1e-9 bound (see the drift test).
 */
const REBUILD_WINDOWS = 8;

/**
 * A fresh all-NaN result, for values() and for a caller's valuesInto()
 * buffer. A literal (not built from METRIC_NAMES) so V8 gives every result the
 * same fast hidden class; the type makes a missing or extra name a compile
 * error.
 */
export function blankMetricValues(): MetricValues {
  return {
    cumulativeReturn: NaN,
    annualReturn: NaN,
    annualVolatility: NaN,
    sharpeRatio: NaN,
    downsideRisk: NaN,
    sortinoRatio: NaN,
    maxDrawdown: NaN,
    currentDrawdown: NaN,
    calmarRatio: NaN,
    valueAtRisk: NaN,
    conditionalValueAtRisk: NaN,
    omegaRatio: NaN,
    tailRatio: NaN,
    beta: NaN,
    alpha: NaN,
    correlation: NaN,
    trackingError: NaN,
    informationRatio: NaN,
    winRate: NaN,
    profitFactor: NaN,
    recoveryFactor: NaN,
    riskAdjustedReturn: NaN,
  };
}

/**
 * The incremental engine: every metric of computeMetrics (batch.ts) over a
 * sliding window, O(log W) per push and O(1) per values() call (amortised:
 * see the rebuilds below and DrawdownWindow's flip). Definitions and
 * degenerate cases are documented in services/scorer/METRICS.md; this file
 * only explains how each is kept up to date.
 *
 * Window contents live in a ring buffer (missing observation = NaN), so a
 * leaving sample's contribution is subtracted with exactly the value that was
 * added. Every 8 W pushes all sums are rebuilt from the ring around fresh
 * anchors (O(W) once per 8 W pushes, O(1) amortised): rounding cannot
 * accumulate past a few windows, however long the stream runs.
 */
export class RollingMetrics {
  private readonly cap: number;
  private readonly ann: number;
  private readonly sqrtAnn: number;
  private readonly rf: number;
  private readonly mar: number;
  private readonly cutoff: number;
  private readonly windowMs: number;

  /**
   * The ring's slots: it starts small and doubles (up to the window) as it
   * fills, so a strategy with a few samples costs about what they need.
   */
  private size: number;
  private ret: Float64Array;
  private bench: Float64Array;
  private ts: Float64Array;
  private head = 0;
  private len = 0;
  private seq = 0; // samples pushed so far; the window starts at seq - len
  private latestTs = -Infinity;
  private sinceRebuild = 0;

  private readonly returns = new AnchoredMoments();
  private readonly pairs = new PairMoments();
  private readonly omega = new SplitSum(); // x = r - rf - MAR
  private readonly profit = new SplitSum(); // x = r
  private readonly downside = new SplitSum(); // x = -min(r - MAR, 0)^2
  private readonly sorted: SortedWindow | OrderStatisticTree;
  private readonly wealth: DrawdownWindow;
  private readonly dd = new Float64Array(3);
  // expm1 of the last minimum log-drawdown seen: the window's worst drawdown
  // changes only when it forms or leaves, so most values() calls skip an expm1.
  private ddLog = 0;
  private ddExpm1 = 0;

  constructor(opts: MetricsOptions) {
    assertValidOptions(opts);
    this.cap = opts.window;
    this.ann = opts.periodsPerYear;
    this.sqrtAnn = Math.sqrt(opts.periodsPerYear);
    this.rf = opts.riskFree;
    this.mar = opts.requiredReturn;
    this.cutoff = opts.varCutoff;
    this.windowMs = opts.windowMs ?? Infinity;
    this.size = Math.min(this.cap, INITIAL_SLOTS);
    this.ret = new Float64Array(this.size);
    this.bench = new Float64Array(this.size);
    this.ts = new Float64Array(this.size);
    this.sorted =
      this.cap >= ORDER_TREE_MIN_WINDOW
        ? new OrderStatisticTree(this.cap, this.cutoff)
        : new SortedWindow(this.cap, this.cutoff);
    this.wealth = new DrawdownWindow(this.cap);
  }

  /** Observations (missing ones included) in the window. */
  get count(): number {
    return this.len;
  }

  /**
   * Adds one sample. null, NaN or +-Infinity is a missing observation. ts is
   * epoch ms, assumed non-decreasing; it only matters with windowMs.
   */
  push(ret: number | null, benchmark: number | null, ts: number): void {
    const r = isObserved(ret) ? ret : Number.NaN;
    // When an observed return replaces an observed one, the sorted window does
    // both in one replace() (see SortedWindow.replace).
    const leaving = this.len === this.cap ? this.evictOldest(r === r) : Number.NaN;
    const b = isObserved(benchmark) ? benchmark : Number.NaN;
    if (this.len === this.size) this.grow();
    let pos = this.head + this.len;
    if (pos >= this.size) pos -= this.size;
    this.ret[pos] = r;
    this.bench[pos] = b;
    this.ts[pos] = ts;
    this.len++;
    const seq = this.seq++;
    // Missing = a 0 return for wealth; a loss beyond -100 % floors wealth at 0.
    this.wealth.push(r === r ? Math.log1p(r > -1 ? r : -1) : 0);
    if (r === r) {
      this.returns.add(r, seq);
      if (leaving === leaving) this.sorted.replace(leaving, r);
      else this.sorted.insert(r);
      this.addReturn(r);
      if (b === b) this.pairs.add(r, b, seq);
    }
    if (ts > this.latestTs) this.latestTs = ts;
    const oldest = this.latestTs - this.windowMs;
    while (this.len > 0 && this.ts[this.head]! < oldest) this.evictOldest();
    if (++this.sinceRebuild >= REBUILD_WINDOWS * this.cap) this.rebuild();
  }

  /** Every metric of the current window, as a new object. */
  values(): MetricValues {
    return this.valuesInto(blankMetricValues());
  }

  /**
   * values() written into a caller-owned object: the hot path for a caller
   * that reads the numbers out at once, with no allocation per call.
   */
  valuesInto(out: MetricValues): MetricValues {
    const n = this.len;
    const head = this.seq - n;
    const nv = this.returns.count;
    const { ann, sqrtAnn, rf, mar, cutoff } = this;
    if (this.illConditioned(head)) this.rebuild();
    this.wealth.query(this.dd);
    const logWealth = this.dd[0]!;
    const minDD = this.dd[2]!;
    if (minDD !== this.ddLog) {
      this.ddLog = minDD;
      this.ddExpm1 = Math.expm1(minDD);
    }
    const maxDrawdown = n === 0 ? NaN : this.ddExpm1;
    const annualReturn = n === 0 ? NaN : Math.expm1((logWealth * ann) / n);
    const mean = this.returns.mean(head);
    const std = Math.sqrt(this.returns.variance(head));
    const annualVolatility = n < 2 ? NaN : std * sqrtAnn;
    const downsideRisk = nv === 0 ? NaN : Math.sqrt((0 - this.downside.negative) / nv) * sqrtAnn;
    const calmar = maxDrawdown < 0 ? annualReturn / -maxDrawdown : NaN;
    const omegaDen = 0 - this.omega.negative; // 0 - x, not -x: never -0
    const nonZero = this.profit.positiveCount + this.profit.negativeCount;

    const pairs = this.pairs;
    const np = pairs.count;
    const beta = n < 2 ? NaN : pairs.beta(head);
    const alphaMean = pairs.r.mean(head) - rf - beta * (pairs.b.mean(head) - rf);
    const activeStd = Math.sqrt(pairs.active.variance(head));

    out.cumulativeReturn = n === 0 ? NaN : Math.expm1(logWealth);
    out.annualReturn = annualReturn;
    out.annualVolatility = annualVolatility;
    out.sharpeRatio = n < 2 ? NaN : ((mean - rf) / std) * sqrtAnn;
    out.downsideRisk = downsideRisk;
    out.sortinoRatio = n < 2 ? NaN : ((mean - mar) * ann) / downsideRisk;
    out.maxDrawdown = maxDrawdown;
    out.currentDrawdown = n === 0 ? NaN : Math.expm1(logWealth - this.dd[1]!);
    out.calmarRatio = Number.isFinite(calmar) ? calmar : NaN;
    out.valueAtRisk = this.sorted.percentile(cutoff);
    out.conditionalValueAtRisk = this.sorted.tailMean();
    out.omegaRatio = n < 2 || !(omegaDen > 0) ? NaN : this.omega.positive / omegaDen;
    out.tailRatio = Math.abs(this.sorted.percentile(0.95)) / Math.abs(this.sorted.percentile(0.05));
    out.beta = beta;
    // Math.pow, a tenth of values() (~80 ns), stays: it reproduces the batch
    // reference's rounding. expm1(ann * log1p(alphaMean)) or
    // expm1(ann * log(1 + alphaMean)) cost ~25 ns but moved alpha off the
    // batch value by up to 6e-11 relative when alpha is near 0.
    out.alpha = n < 2 || np === 0 ? NaN : (1 + alphaMean) ** ann - 1;
    out.correlation = pairs.correlation(head);
    out.trackingError = np < 2 ? NaN : activeStd * sqrtAnn;
    out.informationRatio = np < 2 ? NaN : (pairs.active.mean(head) / activeStd) * sqrtAnn;
    out.winRate = nv === 0 ? NaN : nonZero === 0 ? 0 : this.profit.positiveCount / nonZero;
    out.profitFactor = nv === 0 ? NaN : Math.abs(this.profit.positive / this.profit.negative);
    out.recoveryFactor =
      n === 0 ? NaN : Math.abs(this.returns.sum(head) - rf) / Math.abs(maxDrawdown);
    out.riskAdjustedReturn = annualReturn / annualVolatility;
    return out;
  }

  private illConditioned(head: number): boolean {
    const p = this.pairs;
    return (
      this.returns.illConditioned(head) ||
      p.r.illConditioned(head) ||
      p.b.illConditioned(head) ||
      p.active.illConditioned(head)
    );
  }

  private addReturn(r: number): void {
    this.omega.add(r - this.rf - this.mar);
    this.profit.add(r);
    const y = r - this.mar;
    this.downside.add(y < 0 ? -(y * y) : 0);
  }

  private removeReturn(r: number): void {
    this.omega.remove(r - this.rf - this.mar);
    this.profit.remove(r);
    const y = r - this.mar;
    this.downside.remove(y < 0 ? -(y * y) : 0);
  }

  /**
   * Drops the oldest sample. With deferSorted, an observed return stays in the
   * sorted window and is returned for the caller's replace(); otherwise NaN.
   */
  private evictOldest(deferSorted = false): number {
    const p = this.head;
    const r = this.ret[p]!;
    let deferred = Number.NaN;
    if (r === r) {
      this.returns.remove(r);
      this.removeReturn(r);
      if (deferSorted) deferred = r;
      else this.sorted.remove(r);
      const b = this.bench[p]!;
      if (b === b) this.pairs.remove(r, b);
    }
    this.wealth.shift();
    this.head = p + 1 === this.size ? 0 : p + 1;
    this.len--;
    return deferred;
  }

  /** Bytes held by the window's arrays (the ring, the sorted returns, the drawdown stacks). */
  get bytes(): number {
    const sorted = this.sorted instanceof SortedWindow ? this.sorted.bytes : 0;
    return this.ret.byteLength * 3 + sorted + this.wealth.bytes;
  }

  /** Doubles the ring (at most to the window), laid out from slot 0 in window order. */
  private grow(): void {
    const next = Math.min(this.cap, this.size * 2);
    const lay = (a: Float64Array): Float64Array => {
      const out = new Float64Array(next);
      for (let j = 0, p = this.head; j < this.len; j++, p = p + 1 === this.size ? 0 : p + 1) {
        out[j] = a[p]!;
      }
      return out;
    };
    this.ret = lay(this.ret);
    this.bench = lay(this.bench);
    this.ts = lay(this.ts);
    this.size = next;
    this.head = 0;
  }

  /** Re-anchors every sum at the current means and re-adds the window. */
  private rebuild(): void {
    this.sinceRebuild = 0;
    const head = this.seq - this.len;
    const anchor = (m: number): number => (Number.isFinite(m) ? m : 0);
    this.returns.rebuild(anchor(this.returns.mean(head)));
    this.pairs.rebuild(
      anchor(this.pairs.r.mean(head)),
      anchor(this.pairs.b.mean(head)),
      anchor(this.pairs.active.mean(head)),
    );
    this.omega.reset();
    this.profit.reset();
    this.downside.reset();
    for (let j = 0, p = this.head; j < this.len; j++, p = p + 1 === this.size ? 0 : p + 1) {
      const r = this.ret[p]!;
      if (r !== r) continue;
      this.returns.accumulate(r);
      this.omega.add(r - this.rf - this.mar);
      this.profit.add(r);
      const y = r - this.mar;
      this.downside.add(y < 0 ? -(y * y) : 0);
      const b = this.bench[p]!;
      if (b === b) this.pairs.accumulate(r, b);
    }
    this.sorted.resync();
  }
}
