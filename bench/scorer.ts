/**
 * Scorer metrics benchmark: per-update cost of the incremental engine
 * (push + values(), the full metric set) against a naive recompute of the
 * window with the batch reference, in the same run, plus memory per strategy.
 *
 *   npm run bench:scorer                      # W = 100, 1000, 10 000, 100 000
 *   npm run bench:scorer -- --updates 2000000 # more updates per window size
 *   npm run bench:scorer -- --drift 10000000  # long-run drift check instead
 *   npm run bench:scorer -- --order-stats     # sorted array vs treap for VaR/CVaR
 *   npm run bench:scorer -- --window-cost     # only the cost per catalogue window added
 */
import { parseArgs } from 'node:util';
import { METRIC_NAMES } from '@quantmon/shared/metric-names';
import { compileCatalogue, type StrategySample } from '@quantmon/shared';
import {
  computeMetrics,
  DEFAULT_METRICS_OPTIONS,
  RollingMetrics,
} from '../services/scorer/src/metrics/index.js';
import { OrderStatisticTree } from '../services/scorer/src/metrics/order-statistic-tree.js';
import { SortedWindow } from '../services/scorer/src/metrics/sorted-window.js';
import { ScorerCore } from '../services/scorer/src/scorer-core.js';
import { metricDifferences } from '../services/scorer/src/metrics/testing/close-to.js';
import {
  AWKWARD_MIX,
  generateSeries,
  mulberry32,
} from '../services/scorer/src/metrics/testing/seeded-series.js';

const { values: args } = parseArgs({
  options: {
    updates: { type: 'string', default: '1000000' },
    windows: { type: 'string', default: '100,1000,10000,100000' },
    drift: { type: 'string' },
    'order-stats': { type: 'boolean', default: false },
    'window-cost': { type: 'boolean', default: false },
  },
});

/** Realistic stream: 2 % missing returns, benchmark always present. */
function makeStream(n: number): { r: Float64Array; b: Float64Array } {
  const rand = mulberry32(42);
  const r = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    b[i] = (rand() - 0.5) * 0.02;
    r[i] = rand() < 0.02 ? Number.NaN : 0.7 * b[i]! + (rand() - 0.49) * 0.02;
  }
  return { r, b };
}

const quantile = (sorted: Float64Array, q: number): number =>
  sorted[Math.floor(q * (sorted.length - 1))]!;
const fmtNs = (ns: number): string =>
  ns < 10_000 ? `${ns.toFixed(0)} ns` : `${(ns / 1000).toFixed(1)} µs`;
const fmtRate = (perSec: number): string => `${(perSec / 1e6).toFixed(3)} M/s`;

let sink = 0; // keeps results observable so the JIT cannot drop the work

/** Throughput rounds per window size; the figures printed are their medians. */
const ROUNDS = 5;
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
};

function benchIncremental(W: number, updates: number, s: { r: Float64Array; b: Float64Array }) {
  const n = s.r.length;
  const engine = new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, window: W });
  // Fill, then JIT warm-up of both calls.
  for (let i = 0; i < W; i++) engine.push(s.r[i % n]!, s.b[i % n]!, i);
  for (let i = W; i < W + 20_000; i++) {
    engine.push(s.r[i % n]!, s.b[i % n]!, i);
    sink += engine.values().sharpeRatio;
  }
  // Throughput, uninstrumented: push + values() per update, then push alone.
  // Each is the median of ROUNDS rounds, alternating, so a burst of load from
  // another process on a shared machine spoils one round, not the figure.
  const perRound = Math.max(1, Math.floor(updates / ROUNDS));
  const full: number[] = [];
  const pushOnly: number[] = [];
  for (let round = 0, i = 0; round < ROUNDS; round++) {
    let t0 = process.hrtime.bigint();
    for (const end = i + perRound; i < end; i++) {
      engine.push(s.r[i % n]!, s.b[i % n]!, i);
      sink += engine.values().sharpeRatio;
    }
    full.push(Number(process.hrtime.bigint() - t0) / perRound);
    t0 = process.hrtime.bigint();
    for (const end = i + perRound; i < end; i++) engine.push(s.r[i % n]!, s.b[i % n]!, i);
    pushOnly.push(Number(process.hrtime.bigint() - t0) / perRound);
  }
  const fullNs = median(full);
  const pushNs = median(pushOnly);
  // Latency distribution: each update timed on its own (timer overhead subtracted).
  const samples = Math.min(updates, 300_000);
  const lat = new Float64Array(samples);
  let overhead = Infinity;
  for (let i = 0; i < 10_000; i++) {
    const a = process.hrtime.bigint();
    overhead = Math.min(overhead, Number(process.hrtime.bigint() - a));
  }
  for (let i = 0; i < samples; i++) {
    const a = process.hrtime.bigint();
    engine.push(s.r[i % n]!, s.b[i % n]!, i);
    sink += engine.values().sharpeRatio;
    lat[i] = Number(process.hrtime.bigint() - a) - overhead;
  }
  lat.sort();
  return { fullNs, pushNs, median: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
}

function benchNaive(W: number, s: { r: Float64Array; b: Float64Array }, budgetMs: number) {
  const n = s.r.length;
  const toObs = (x: number): number | null => (x === x ? x : null);
  const ret = Array.from(s.r.subarray(0, W + 10_000), toObs);
  const ben = Array.from(s.b.subarray(0, W + 10_000), toObs);
  const opts = { ...DEFAULT_METRICS_OPTIONS, window: W };
  const lat: number[] = [];
  const deadline = performance.now() + budgetMs;
  for (
    let i = W;
    i < Math.min(n, ret.length) && (performance.now() < deadline || lat.length < 5);
    i++
  ) {
    const a = process.hrtime.bigint();
    sink += computeMetrics(ret.slice(i - W, i), ben.slice(i - W, i), opts).sharpeRatio;
    lat.push(Number(process.hrtime.bigint() - a));
  }
  const sorted = Float64Array.from(lat).sort();
  const mean = lat.reduce((x, y) => x + y, 0) / lat.length;
  return {
    meanNs: mean,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    count: lat.length,
  };
}

/**
 * Retained bytes per engine with a full window. One reading is at the mercy
 * of whatever the collector frees meanwhile (bytecode of the earlier runs is
 * flushed after a few GCs, for one), which made the figure negative at
 * W = 100. So: enough engines to dwarf that noise (at least 800 KB of
 * returns in all), repeated GCs before each reading, the median of five
 * trials, and each trial's engines released before the next one starts.
 */
/** Heap and array bytes per strategy whose window of W holds `n` samples. */
function memoryPerStrategy(W: number, n = W): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return Number.NaN; // needs node --expose-gc (npm run bench:scorer has it)
  const heap = (): number => {
    for (let i = 0; i < 3; i++) gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const k = Math.max(10, Math.min(1000, Math.floor(100_000 / W)));
  const trials: number[] = [];
  for (let t = 0; t < 5; t++) {
    const before = heap();
    const keep: RollingMetrics[] = [];
    for (let i = 0; i < k; i++) {
      const e = new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, window: W });
      for (let j = 0; j < n; j++) e.push(0.001 * ((j % 7) - 3), 0.001, j);
      keep.push(e);
    }
    const after = heap();
    trials.push((after - before) / k);
    // Empty it explicitly: a stale stack slot may still point at the array
    // when the next trial takes its `before` reading.
    sink += keep.length;
    keep.length = 0;
  }
  return trials.sort((a, b) => a - b)[2]!;
}

function drift(total: number): void {
  const W = 1000;
  const chunk = 100_000;
  const opts = { ...DEFAULT_METRICS_OPTIONS, window: W };
  const engine = new RollingMetrics(opts);
  let worst = 0;
  for (let done = 0, c = 0; done < total; done += chunk, c++) {
    const { returns, benchmark } = generateSeries(7000 + c, chunk, AWKWARD_MIX);
    for (let i = 0; i < chunk; i++) engine.push(returns[i] ?? null, benchmark[i] ?? null, done + i);
    const got = engine.values();
    const want = computeMetrics(returns.slice(-W), benchmark.slice(-W), opts);
    for (const m of METRIC_NAMES) {
      const a = got[m];
      const b = want[m];
      if (Number.isFinite(a) && Number.isFinite(b) && b !== 0)
        worst = Math.max(worst, Math.abs(a - b) / Math.abs(b));
    }
    const diffs = metricDifferences(got, want);
    if (diffs.length > 0) console.log(`after ${done + chunk}: ${diffs.join('; ')}`);
  }
  console.log(
    `drift after ${total.toLocaleString('en')} updates (W = ${W}, checked every ${chunk.toLocaleString('en')}):`,
  );
  console.log(
    `  worst relative difference vs batch recompute over all metrics: ${worst.toExponential(2)}`,
  );
}

/** The two order-statistics structures on the engine's access pattern. */
function orderStats(): void {
  const vals = makeStream(1 << 20).b;
  console.log('order statistics per update: replace + VaR + P5 + P95 + CVaR');
  for (const W of [100, 1000, 10_000, 30_000, 100_000]) {
    const row: string[] = [];
    for (const [name, make] of [
      ['sorted Float64Array', () => new SortedWindow(W, 0.05)],
      ['treap', () => new OrderStatisticTree(W, 0.05)],
    ] as const) {
      const s = make();
      for (let i = 0; i < W; i++) s.insert(vals[i]!);
      const n = 300_000;
      const t0 = process.hrtime.bigint();
      for (let i = W; i < n + W; i++) {
        s.replace(vals[i - W]!, vals[i]!);
        sink += s.percentile(0.05) + s.percentile(0.95) + s.tailMean();
      }
      row.push(`${name} ${fmtNs(Number(process.hrtime.bigint() - t0) / n)}`);
    }
    console.log(`  W = ${W.toLocaleString('en')}: ${row.join(', ')}`);
  }
}

/** Least-squares slope of y over x. */
function slope(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  x.forEach((xi, i) => {
    num += (xi - mx) * (y[i]! - my);
    den += (xi - mx) ** 2;
  });
  return num / den;
}

/**
 * The scorer core's cost per catalogue window added (issue 15): one
 * strategy with the main window (W = 1000) and k extra windows, per sample
 * applied without an update (push into every window: the replay and the
 * conflated path) and per sample with its own update (every window's
 * metrics read out and put on the wire). Both should grow linearly in k.
 */
function windowCost(): void {
  const EXTRA = [20, 60, 120, 250, 500, 750, 1500, 2000];
  const KS = [0, 1, 2, 4, 8];
  const stream = makeStream(1 << 16);
  const samples: StrategySample[] = Array.from({ length: 1 << 16 }, (_, i) => ({
    strategy: 'bench',
    ts: 1_767_225_600_000 + i * 60_000,
    return: Number.isNaN(stream.r[i]!) ? 0 : stream.r[i]!,
    benchmarkReturn: stream.b[i]!,
    receivedAt: 0,
  }));
  const pushN = 400_000;
  const applyN = 100_000;
  const push: number[] = [];
  const apply: number[] = [];
  for (const k of KS) {
    const catalogue = compileCatalogue({ defaults: { windows: EXTRA.slice(0, k) } });
    const pushRounds: number[] = [];
    const applyRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, catalogue);
      let id = 1;
      for (let i = 0; i < 20_000; i++) core.restore(`${id++}-0`, samples[i & 0xffff]!);
      let t0 = process.hrtime.bigint();
      for (let i = 0; i < pushN; i++) core.restore(`${id++}-0`, samples[i & 0xffff]!);
      pushRounds.push(Number(process.hrtime.bigint() - t0) / pushN);
      t0 = process.hrtime.bigint();
      for (let i = 0; i < applyN; i++) {
        sink += core.apply(`${id++}-0`, samples[i & 0xffff]!, 0)?.count ?? 0;
      }
      applyRounds.push(Number(process.hrtime.bigint() - t0) / applyN);
    }
    push.push(median(pushRounds));
    apply.push(median(applyRounds));
  }
  console.log(
    'cost per catalogue window added (main window W = 1,000; extra windows 20, 60, 120, ...)',
  );
  KS.forEach((k, i) => {
    console.log(
      `  ${k} extra: sample without update ${fmtNs(push[i]!)} (${(push[i]! / push[0]!).toFixed(2)}x), sample with update ${fmtNs(apply[i]!)} (${(apply[i]! / apply[0]!).toFixed(2)}x)`,
    );
  });
  console.log(
    `  per window added (least squares): ${fmtNs(slope(KS, push))} per sample without update, ${fmtNs(slope(KS, apply))} per sample with update\n`,
  );
}

function main(): void {
  if (args['window-cost']) {
    windowCost();
    return;
  }
  if (args['order-stats']) {
    orderStats();
    return;
  }
  if (args.drift !== undefined) {
    drift(Number(args.drift));
    return;
  }
  const updates = Number(args.updates);
  const windows = args.windows.split(',').map(Number);
  const stream = makeStream(1 << 20);
  console.log(
    `scorer metrics benchmark: node ${process.version}, ${METRIC_NAMES.length} metrics, one core`,
  );
  console.log(
    `${updates.toLocaleString('en')} updates per window size in ${ROUNDS} rounds (rates: median round); update = push + values()\n`,
  );
  for (const W of windows) {
    const inc = benchIncremental(W, updates, stream);
    const naive = benchNaive(W, stream, W >= 100_000 ? 6000 : 3000);
    const mem = memoryPerStrategy(W);
    // Windows grow with what they hold: a strategy with 3 samples costs what 3 samples need.
    const mem3 = memoryPerStrategy(W, 3);
    console.log(`W = ${W.toLocaleString('en')}`);
    console.log(
      `  incremental  ${fmtRate(1e9 / inc.fullNs)} (mean ${fmtNs(inc.fullNs)}; median ${fmtNs(inc.median)}, p99 ${fmtNs(inc.p99)}); push only ${fmtRate(1e9 / inc.pushNs)}`,
    );
    console.log(
      `  naive batch  ${fmtRate(1e9 / naive.meanNs)} (mean ${fmtNs(naive.meanNs)}; median ${fmtNs(naive.median)}, p99 ${fmtNs(naive.p99)}; ${naive.count} updates)`,
    );
    console.log(`  speed-up     ${(naive.meanNs / inc.fullNs).toFixed(0)}x`);
    console.log(
      `  memory       ${(mem / 1024).toFixed(1)} KiB per strategy with a full window, ${(mem3 / 1024).toFixed(2)} KiB with 3 samples\n`,
    );
  }
  windowCost();
  if (sink === 42) console.log('');
}

main();
