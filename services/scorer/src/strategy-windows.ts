import {
  toMetricValue,
  type MetricValues,
  type ResolvedStrategy,
  type StrategyMetrics,
  type WindowMetrics,
} from '@quantmon/shared';
import { RollingMetrics, type MetricsOptions } from './metrics/index.js';

/** What a window is filled by, for a replay: a sample count, and a time span when it has one. */
export interface WindowNeed {
  count: number;
  timeMs?: number;
}

/**
 * One strategy's windows (issue 15): the main window (the update's
 * top-level fields) and the catalogue's extra windows, each a full
 * RollingMetrics with the strategy's parameters. A sample enters every
 * window, so the per-sample cost is linear in the number of windows.
 */
export class StrategyWindows {
  readonly main: RollingMetrics;
  private readonly extra: { name: string; metrics: RollingMetrics }[];

  /** Replaced in place when only tags or the display name change. */
  resolved: ResolvedStrategy;

  constructor(resolved: ResolvedStrategy, varCutoff: number) {
    this.resolved = resolved;
    const opts = (window: number, windowMs: number | undefined): MetricsOptions => ({
      periodsPerYear: resolved.params.periodsPerYear,
      riskFree: resolved.params.riskFree,
      requiredReturn: resolved.params.requiredReturn,
      varCutoff,
      window,
      ...(windowMs !== undefined ? { windowMs } : {}),
    });
    this.main = new RollingMetrics(opts(resolved.params.window, resolved.params.windowMs));
    this.extra = resolved.windows.map((w) => ({
      name: w.name,
      metrics: new RollingMetrics(opts(w.count, w.timeMs)),
    }));
  }

  get extraCount(): number {
    return this.extra.length;
  }

  push(ret: number | null, benchmark: number | null, ts: number): void {
    this.main.push(ret, benchmark, ts);
    for (let i = 0; i < this.extra.length; i++) this.extra[i]!.metrics.push(ret, benchmark, ts);
  }

  /** The extra windows on the wire (`ScoreUpdate.windows`); undefined when there are none. */
  wire(scratch: MetricValues): Record<string, WindowMetrics> | undefined {
    if (this.extra.length === 0) return undefined;
    const out: Record<string, WindowMetrics> = {};
    for (const { name, metrics } of this.extra) {
      out[name] = { count: metrics.count, metrics: wireMetrics(metrics.valuesInto(scratch)) };
    }
    return out;
  }
}

const w = toMetricValue;

/**
 * A window's values on the wire, in METRIC_NAMES order. A literal (as
 * blankMetricValues is) so every result shares one hidden class: this runs
 * per extra window per update.
 */
export function wireMetrics(v: MetricValues): StrategyMetrics {
  return {
    cumulativeReturn: w(v.cumulativeReturn),
    annualReturn: w(v.annualReturn),
    annualVolatility: w(v.annualVolatility),
    sharpeRatio: w(v.sharpeRatio),
    downsideRisk: w(v.downsideRisk),
    sortinoRatio: w(v.sortinoRatio),
    maxDrawdown: w(v.maxDrawdown),
    currentDrawdown: w(v.currentDrawdown),
    calmarRatio: w(v.calmarRatio),
    valueAtRisk: w(v.valueAtRisk),
    conditionalValueAtRisk: w(v.conditionalValueAtRisk),
    omegaRatio: w(v.omegaRatio),
    tailRatio: w(v.tailRatio),
    beta: w(v.beta),
    alpha: w(v.alpha),
    correlation: w(v.correlation),
    trackingError: w(v.trackingError),
    informationRatio: w(v.informationRatio),
    winRate: w(v.winRate),
    profitFactor: w(v.profitFactor),
    recoveryFactor: w(v.recoveryFactor),
    riskAdjustedReturn: w(v.riskAdjustedReturn),
  };
}

/** Every window's count and time span, the main one first. */
export function windowNeeds(resolved: ResolvedStrategy): WindowNeed[] {
  const { params } = resolved;
  return [
    { count: params.window, ...(params.windowMs !== undefined ? { timeMs: params.windowMs } : {}) },
    ...resolved.windows.map((w) => ({
      count: w.count,
      ...(w.timeMs !== undefined ? { timeMs: w.timeMs } : {}),
    })),
  ];
}

/** What changed between two resolutions of a strategy, for the rebuild's log and `rebuilt.reason`. */
export function describeChange(from: ResolvedStrategy, to: ResolvedStrategy): string {
  const out: string[] = [];
  const a = from.params as unknown as Record<string, unknown>;
  const b = to.params as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[k] !== b[k]) out.push(`${k} ${String(a[k] ?? '-')} -> ${String(b[k] ?? '-')}`);
  }
  const names = (r: ResolvedStrategy): string => r.windows.map((w) => w.name).join(',') || 'none';
  if (JSON.stringify(from.windows) !== JSON.stringify(to.windows)) {
    out.push(`windows ${names(from)} -> ${names(to)}`);
  }
  return out.join('; ');
}
