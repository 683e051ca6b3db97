import type { AlertEvent, MetricValues, ScoreStatus, Scores } from '@quantmon/shared';
import {
  computeMetrics,
  DEFAULT_METRICS_OPTIONS,
  RollingMetrics,
} from '../../../scorer/src/metrics/index.js';
import { computeScores, scoreStatus } from '../../../scorer/src/scores.js';
import type { ReportInput } from './report-data.js';

/**
 * Pure: the assessment of one strategy over a range. The metrics are the
 * scorer's own (computeMetrics, the batch reference behind `npm run
 * metrics`) over the stored raw returns, with the same defaults, so they
 * equal `npm run -s metrics` over the same returns.
 */

export interface SeriesPoint {
  ts: number;
  value: number;
}

export interface AlertBreakdown {
  rule: string;
  level: string;
  fired: number;
  acknowledged: number;
  /** Median and longest time from firing to the first acknowledgement, ms; null when none was acked. */
  medianAckMs: number | null;
  maxAckMs: number | null;
}

export interface Report {
  strategy: string;
  from: number;
  to: number;
  samples: number;
  firstTs: number | null;
  lastTs: number | null;
  metrics: MetricValues;
  /** The metrics' input, as `npm run metrics` takes it. */
  metricsInput: { returns: number[]; benchmark?: (number | null)[] };
  scores: Scores;
  status: ScoreStatus;
  equity: SeriesPoint[];
  drawdown: SeriesPoint[];
  rollingWindow: number;
  rollingSharpe: SeriesPoint[];
  rollingVolatility: SeriesPoint[];
  /** Year -> 12 monthly compounded returns (null: no sample that month) and the year's total. */
  monthly: { year: number; months: (number | null)[]; total: number }[];
  alerts: AlertBreakdown[];
  recommendations: { rule: string; level: string; text: string }[];
}

/** Rolling window for the Sharpe and volatility charts: about a quarter of daily samples, fewer for short ranges. */
export function rollingWindowFor(n: number): number {
  return Math.max(2, Math.min(63, Math.floor(n / 4)));
}

export function analyse(input: ReportInput): Report {
  const returns = input.samples.map((s) => s.ret);
  const hasBenchmark = input.samples.some((s) => s.benchmark !== null);
  const benchmark = hasBenchmark ? input.samples.map((s) => s.benchmark) : undefined;
  const opts = { ...DEFAULT_METRICS_OPTIONS, window: Math.max(1, returns.length) };
  const metrics = computeMetrics(returns, benchmark, opts);
  const scores = computeScores(metrics);

  const equity: SeriesPoint[] = [];
  const drawdown: SeriesPoint[] = [];
  let wealth = 1;
  let peak = 1;
  for (const s of input.samples) {
    wealth *= 1 + Math.max(s.ret, -1);
    peak = Math.max(peak, wealth);
    equity.push({ ts: s.ts, value: wealth });
    drawdown.push({ ts: s.ts, value: wealth / peak - 1 });
  }

  const rollingWindow = rollingWindowFor(returns.length);
  const engine = new RollingMetrics({ ...DEFAULT_METRICS_OPTIONS, window: rollingWindow });
  const rollingSharpe: SeriesPoint[] = [];
  const rollingVolatility: SeriesPoint[] = [];
  input.samples.forEach((s, i) => {
    engine.push(s.ret, s.benchmark, i);
    if (i + 1 < rollingWindow) return;
    const v = engine.values();
    if (Number.isFinite(v.sharpeRatio)) rollingSharpe.push({ ts: s.ts, value: v.sharpeRatio });
    if (Number.isFinite(v.annualVolatility))
      rollingVolatility.push({ ts: s.ts, value: v.annualVolatility });
  });

  return {
    strategy: input.strategy,
    from: input.from,
    to: input.to,
    samples: returns.length,
    firstTs: input.samples[0]?.ts ?? null,
    lastTs: input.samples.at(-1)?.ts ?? null,
    metrics,
    metricsInput: benchmark ? { returns, benchmark } : { returns },
    scores,
    status: scoreStatus(scores),
    equity,
    drawdown,
    rollingWindow,
    rollingSharpe,
    rollingVolatility,
    monthly: monthlyReturns(input.samples),
    alerts: alertBreakdown(input.alerts),
    recommendations: recommendations(input.alerts),
  };
}

/** Compounded return per calendar month (UTC), as tearsheets show it. */
export function monthlyReturns(samples: readonly { ts: number; ret: number }[]): Report['monthly'] {
  const years = new Map<number, (number | null)[]>();
  for (const s of samples) {
    const d = new Date(s.ts);
    const y = d.getUTCFullYear();
    const months = years.get(y) ?? Array.from({ length: 12 }, () => null);
    const m = d.getUTCMonth();
    months[m] = ((months[m] ?? 0) + 1) * (1 + s.ret) - 1;
    years.set(y, months);
  }
  return [...years.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([year, months]) => ({
      year,
      months,
      total: months.reduce<number>((acc, m) => (m === null ? acc : (1 + acc) * (1 + m) - 1), 0),
    }));
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Per rule and level: incidents that fired, how many were acknowledged, and how fast. */
export function alertBreakdown(events: readonly AlertEvent[]): AlertBreakdown[] {
  const incidents = new Map<
    string,
    { rule: string; level: string; startsAt: number; ackAt?: number }
  >();
  for (const e of events) {
    if (e.state === 'pending') continue;
    const i = incidents.get(e.incidentId) ?? { rule: e.rule, level: e.level, startsAt: e.startsAt };
    const acks = [...(e.acknowledgements ?? []), ...(e.acknowledged ? [e.acknowledged] : [])];
    for (const a of acks) if (i.ackAt === undefined || a.at < i.ackAt) i.ackAt = a.at;
    incidents.set(e.incidentId, i);
  }
  const groups = new Map<string, { rule: string; level: string; fired: number; ack: number[] }>();
  for (const i of incidents.values()) {
    const key = `${i.rule}|${i.level}`;
    const g = groups.get(key) ?? { rule: i.rule, level: i.level, fired: 0, ack: [] };
    g.fired++;
    if (i.ackAt !== undefined) g.ack.push(Math.max(0, i.ackAt - i.startsAt));
    groups.set(key, g);
  }
  const order = { critical: 0, warning: 1, info: 2 } as Record<string, number>;
  return [...groups.values()]
    .sort((a, b) => (order[a.level] ?? 3) - (order[b.level] ?? 3) || b.fired - a.fired)
    .map((g) => ({
      rule: g.rule,
      level: g.level,
      fired: g.fired,
      acknowledged: g.ack.length,
      medianAckMs: median(g.ack),
      maxAckMs: g.ack.length ? Math.max(...g.ack) : null,
    }));
}

/** One recommendation per rule that fired: the rule's own advice, as the alerter wrote it. */
export function recommendations(events: readonly AlertEvent[]): Report['recommendations'] {
  const byRule = new Map<string, { rule: string; level: string; text: string }>();
  for (const e of events) {
    if (e.state !== 'firing' || !e.recommendation) continue;
    byRule.set(e.rule, { rule: e.rule, level: e.level, text: e.recommendation });
  }
  const order = { critical: 0, warning: 1, info: 2 } as Record<string, number>;
  return [...byRule.values()].sort((a, b) => (order[a.level] ?? 3) - (order[b.level] ?? 3));
}
