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
  | 'tags'
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
  { key: 'tags', label: 'Tags', numeric: false, title: 'catalogue tags (filter with desk=rates)' },
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
    case 'tags':
      return tagsText(r.u);
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
  /** Words to match: `key=value` a strategy tag (desk=rates), anything else part of the id. */
  text: string;
  status: StatusFilter;
  sort: ColumnKey;
  descending: boolean;
  /** A tag key to group by (desk, manager...); absent or '' for no grouping. */
  group?: string;
}

/** The filter text as tag conditions and id fragments (all must hold), lower-cased. */
export function parseFilter(text: string): { tags: [string, string][]; ids: string[] } {
  const tags: [string, string][] = [];
  const ids: string[] = [];
  for (const word of text.trim().toLowerCase().split(/\s+/)) {
    if (!word) continue;
    const eq = word.indexOf('=');
    if (eq > 0) tags.push([word.slice(0, eq), word.slice(eq + 1)]);
    else ids.push(word);
  }
  return { tags, ids };
}

/** Does a row pass the filter text? Tag values compare without case. */
export function matchesText(r: Row, f: ReturnType<typeof parseFilter>): boolean {
  const id = r.id.toLowerCase();
  for (const part of f.ids) if (!id.includes(part)) return false;
  for (const [k, v] of f.tags) {
    if ((r.u.tags?.[k] ?? '').toLowerCase() !== v) return false;
  }
  return true;
}

/** Every tag key the strategies carry, sorted: the "group by" choices. */
export function tagKeys(rows: Iterable<Row>): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const k in r.u.tags ?? {}) keys.add(k);
  return [...keys].sort();
}

/** "desk=rates · manager=kim": a row's tags for its Tags cell. */
export function tagsText(u: ScoreUpdate): string {
  const t = u.tags;
  if (!t) return '';
  return Object.keys(t)
    .sort()
    .map((k) => `${k}=${t[k]}`)
    .join(' · ');
}

/** A group's header in a grouped overview: its tag value ('' for strategies without the tag). */
export interface GroupHead {
  group: string;
  value: string;
  rows: number;
  /** Rows of the group with an active alert, and the worst level among them. */
  alerting: number;
  worst: Level | undefined;
}

export type Entry = { head: GroupHead; row?: undefined } | { row: Row; head?: undefined };

/**
 * What the overview lists: the visible rows, and when grouping by a tag,
 * each group's header before its rows (groups by value, strategies
 * without the tag last; within a group, the chosen sort).
 */
export function overviewEntries(rows: Iterable<Row>, v: View, now: number): Entry[] {
  const order = visibleOrder(rows, v, now);
  const group = v.group;
  if (!group) return order.map((row) => ({ row }));
  const groups = new Map<string, Row[]>();
  for (const r of order) {
    const value = r.u.tags?.[group] ?? '';
    let g = groups.get(value);
    if (!g) groups.set(value, (g = []));
    g.push(r);
  }
  const values = [...groups.keys()].sort((a, b) =>
    a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  const out: Entry[] = [];
  for (const value of values) {
    const g = groups.get(value)!;
    let alerting = 0;
    let worst: Level | undefined;
    for (const r of g) {
      const w = worstLevel(r);
      if (!w) continue;
      alerting++;
      if (!worst || RANK[w] < RANK[worst]) worst = w;
    }
    out.push({ head: { group, value, rows: g.length, alerting, worst } });
    for (const row of g) out.push({ row });
  }
  return out;
}

const RANK: Record<Level, number> = { critical: 0, warning: 1, info: 2 };

/** The ids to show, filtered and sorted; ties by id so the order is stable. */
export function visibleOrder(rows: Iterable<Row>, v: View, now: number): Row[] {
  const filter = parseFilter(v.text);
  const out: Row[] = [];
  for (const r of rows) {
    if (!matchesText(r, filter)) continue;
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

/**
 * The "Last sample" cell: how long ago, "stale" past five minutes, and a
 * ts ahead of this browser's clock by more than a minute of skew said as
 * such ("in 5 h"), flagged like a stale one: a mis-stamped sample, not a
 * fresh one (the collector refuses them with INGEST_MAX_FUTURE_MS).
 */
export function lastSampleCell(now: number, ts: number): [text: string, tone: string] {
  const ago = now - ts;
  if (ago < -60_000) return [`in ${ageText(-ago)}`, 'stale'];
  return [ageText(ago), ago > 5 * 60_000 ? 'stale' : ''];
}

/** "12 s", "4 min", "3 h", "2 d". */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
