/**
 * The dashboard's data: the latest score per strategy and sample per host,
 * open and recent alerts, and the series the strategy view's charts draw
 * (live, and a past range when one is shown).
 */
import type { AlertEvent, AuditEvent, ScoreUpdate, SystemSample } from '@quantmon/shared';
import { num, posAfter } from './format.js';
import type { Range } from './range-view.js';
import { Series } from './series.js';

export const state = {
  scores: new Map<string, ScoreUpdate>(),
  system: new Map<string, SystemSample>(),
  active: new Map<string, AlertEvent>(),
  /** Recent alert events, newest first (a position is unique within its partition). */
  events: [] as { pos: string; part: number; a: AlertEvent }[],
  /** Acknowledgements and silence changes from GET /api/alerts, newest first. */
  audit: [] as AuditEvent[],
  acked: new Set<string>(),
  ackErrors: new Map<string, string>(),
  selected: localStorage.getItem('quantmon-strategy') ?? '',
  scoreSeries: new Map<string, Series>(),
  riskSeries: new Map<string, Series>(),
  systemSeries: new Series(['cpu', 'memory', 'errorRate', 'apiResponseTime']),
  /** A past range shown instead of live (null: live), and its series. */
  range: null as Range | null,
  rangeScores: new Series(['performance', 'risk', 'stability']),
  rangeRisk: new Series(['vol', 'dd', 'mdd']),
  rangeSystem: new Series(['cpu', 'memory', 'errorRate', 'apiResponseTime']),
};

const seriesFor = (m: Map<string, Series>, id: string, names: string[]): Series => {
  let s = m.get(id);
  if (!s) m.set(id, (s = new Series(names)));
  return s;
};
export const scoreSeries = (id: string) =>
  seriesFor(state.scoreSeries, id, ['performance', 'risk', 'stability']);
export const riskSeries = (id: string) => seriesFor(state.riskSeries, id, ['vol', 'dd', 'mdd']);

export function addScorePoint(
  pos: string,
  u: ScoreUpdate,
  into: [Series, Series] = [scoreSeries(u.strategy), riskSeries(u.strategy)],
): void {
  into[0].add(pos, [u.scores.performance, u.scores.risk, u.scores.stability]);
  const m = u.metrics;
  const p = (v: number | null) => (v === null ? null : v * 100);
  into[1].add(pos, [p(num(m.annualVolatility)), p(num(m.currentDrawdown)), p(num(m.maxDrawdown))]);
}

/** One host's series: the newest host shown (the collector usually runs one per machine). */
export function addSystemPoint(pos: string, s: SystemSample, into = state.systemSeries): void {
  const shown = newestHost();
  if (shown && shown.host !== s.host) return;
  into.add(pos, [s.cpu ?? null, s.memory ?? null, s.errorRate ?? null, s.apiResponseTime ?? null]);
}

export function newestHost(): SystemSample | undefined {
  return [...state.system.values()].sort((a, b) => b.ts - a.ts)[0];
}

/** @quantmon/shared's RETIRED_RULE (the page imports types only from it, no runtime code). */
export const RETIRED_RULE = 'strategy_retired';

export function addEvent(pos: string, part: number, a: AlertEvent): void {
  if (state.events.some((e) => e.pos === pos && e.part === part)) return;
  state.events.push({ pos, part, a });
  state.events.sort((x, y) =>
    posAfter(x.pos, y.pos) ? -1 : posAfter(y.pos, x.pos) ? 1 : x.part - y.part,
  );
  state.events.length = Math.min(state.events.length, 200);
}
