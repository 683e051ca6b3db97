/**
 * The strategies overview's data: one row per strategy, its sort keys and
 * filters. Pure (no DOM), so sorting and filtering are tested on their own
 * and the view only paints the rows it shows.
 */
import type { AlertEvent, ScoreUpdate } from '@quantmon/shared';

export type Level = 'critical' | 'warning' | 'info';

/** A sample older than this is stale (the status filter's "stale"). */
export const STALE_MS = 5 * 60_000;
/** Points kept per strategy for the risk sparkline. */
export const SPARK_POINTS = 40;

export interface Row {
  id: string;
  u: ScoreUpdate;
  /** Active (firing, unmuted) alerts by level. */
  alerts: Record<Level, number>;
  /** Recent risk scores, oldest first. */
  risk: number[];
}

export type ColumnKey =
  | 'strategy'
  | 'performance'
  | 'risk'
  | 'stability'
  | 'sharpe'
  | 'drawdown'
  | 'maxDrawdown'
  | 'var'
  | 'volatility'
  | 'samples'
  | 'age'
  | 'alerts';

export interface Column {
  key: ColumnKey;
  label: string;
  /** Numeric columns sort descending first (worst or largest on top). */
  numeric: boolean;
  title?: string;
}

export const COLUMNS: readonly Column[] = [
  { key: 'strategy', label: 'Strategy', numeric: false },
  { key: 'performance', label: 'Perf', numeric: true, title: 'performance score, target > 70' },
  { key: 'risk', label: 'Risk', numeric: true, title: 'risk score, target < 30' },
  { key: 'stability', label: 'Stab', numeric: true, title: 'stability score, target > 80' },
  { key: 'sharpe', label: 'Sharpe', numeric: true },
  { key: 'drawdown', label: 'DD', numeric: true, title: 'current drawdown' },
  { key: 'maxDrawdown', label: 'Max DD', numeric: true },
  { key: 'var', label: 'VaR', numeric: true, title: 'value at risk (5 %)' },
  { key: 'volatility', label: 'Vol', numeric: true, title: 'annual volatility' },
  { key: 'samples', label: 'Samples', numeric: true },
  { key: 'age', label: 'Last sample', numeric: true, title: 'time since the latest sample' },
  {
    key: 'alerts',
    label: 'Alerts',
    numeric: true,
    title: 'active alerts: critical / warning / info',
  },
];

const finite = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** The value a column sorts by; NaN (not measured) sorts last whichever the direction. */
export function sortValue(r: Row, key: ColumnKey, now: number): number | string {
  const m = r.u.metrics;
  switch (key) {
    case 'strategy':
      return r.id;
    case 'performance':
      return r.u.scores.performance;
    case 'risk':
      return r.u.scores.risk;
    case 'stability':
      return r.u.scores.stability;
    case 'sharpe':
      return finite(m.sharpeRatio);
    // Losses are negative: sort by magnitude so "descending" puts the deepest first.
    case 'drawdown':
      return Math.abs(finite(m.currentDrawdown));
    case 'maxDrawdown':
      return Math.abs(finite(m.maxDrawdown));
    case 'var':
      return Math.abs(finite(m.valueAtRisk));
    case 'volatility':
      return finite(m.annualVolatility);
    case 'samples':
      return r.u.count;
    case 'age':
      return now - r.u.ts;
    case 'alerts':
      return r.alerts.critical * 1e6 + r.alerts.warning * 1e3 + r.alerts.info;
  }
}

export type StatusFilter =
  'all' | 'critical' | 'warning' | 'alerting' | 'ok' | 'high-risk' | 'stale';

export function worstLevel(r: Row): Level | undefined {
  if (r.alerts.critical > 0) return 'critical';
  if (r.alerts.warning > 0) return 'warning';
  if (r.alerts.info > 0) return 'info';
  return undefined;
}

export function matchesStatus(r: Row, f: StatusFilter, now: number): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'critical':
      return r.alerts.critical > 0;
    case 'warning':
      return r.alerts.warning > 0;
    case 'alerting':
      return worstLevel(r) !== undefined;
    case 'ok':
      return worstLevel(r) === undefined && r.u.scores.risk <= 50 && now - r.u.ts <= STALE_MS;
    case 'high-risk':
      return r.u.scores.risk > 50;
    case 'stale':
      return now - r.u.ts > STALE_MS;
  }
}

export interface View {
  text: string;
  status: StatusFilter;
  sort: ColumnKey;
  descending: boolean;
}

/** The ids to show, filtered and sorted; ties by id so the order is stable. */
export function visibleOrder(rows: Iterable<Row>, v: View, now: number): Row[] {
  const needle = v.text.trim().toLowerCase();
  const out: Row[] = [];
  for (const r of rows) {
    if (needle && !r.id.toLowerCase().includes(needle)) continue;
    if (!matchesStatus(r, v.status, now)) continue;
    out.push(r);
  }
  const dir = v.descending ? -1 : 1;
  const keyed = out.map((r) => ({ r, k: sortValue(r, v.sort, now) }));
  keyed.sort((a, b) => {
    const x = a.k;
    const y = b.k;
    if (typeof x === 'number' && typeof y === 'number') {
      const xn = Number.isNaN(x);
      const yn = Number.isNaN(y);
      if (xn !== yn) return xn ? 1 : -1;
      if (!xn && x !== y) return (x - y) * dir;
    } else if (x !== y) return String(x) < String(y) ? -dir : dir;
    return a.r.id < b.r.id ? -1 : a.r.id > b.r.id ? 1 : 0;
  });
  return keyed.map((k) => k.r);
}

/** Active alerts per strategy and level; muted ones (silenced, inhibited) are not counted. */
export function alertCounts(active: Iterable<AlertEvent>): Map<string, Record<Level, number>> {
  const out = new Map<string, Record<Level, number>>();
  for (const a of active) {
    if (!a.subject.startsWith('strategy/') || a.silenced || a.inhibitedBy) continue;
    const id = a.subject.slice('strategy/'.length);
    const c = out.get(id) ?? { critical: 0, warning: 0, info: 0 };
    c[a.level]++;
    out.set(id, c);
  }
  return out;
}

/** "12 s", "4 min", "3 h", "2 d". */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
