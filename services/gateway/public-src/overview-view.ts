/**
 * The strategies overview: every strategy in one table, virtualised (only
 * the rows in view exist in the DOM, a pool reused as you scroll), painted
 * at most once per animation frame, re-sorted at most once a second while
 * values stream in (rows that jump under the pointer cannot be clicked) and
 * at once when the sort or a filter changes. A cell is written only when
 * its text changed; rows are placed with `top` inside the scroller.
 */
import type { AlertEvent, ScoreUpdate } from '@quantmon/shared';
import { el, fmt, pct } from './format.js';
import {
  lastSampleCell,
  alertCounts,
  COLUMNS,
  overviewEntries,
  SPARK_POINTS,
  tagKeys,
  tagsText,
  worstLevel,
  type ColumnKey,
  type Entry,
  type GroupHead,
  type Row,
  type StatusFilter,
  type View,
} from './overview-model.js';

const ROW_H = 30;
const OVERSCAN = 6;
const RESORT_MS = 1000;

const PERF_TONE = { EXCELLENT: 'ok', GOOD: 'warn', 'NEEDS IMPROVEMENT': 'bad' } as const;
const RISK_TONE = { LOW: 'ok', MODERATE: 'warn', HIGH: 'bad' } as const;

interface PoolRow {
  node: HTMLDivElement;
  cells: HTMLSpanElement[];
  texts: string[];
  tones: string[];
  spark: HTMLCanvasElement;
  sparkKey: string;
  id: string;
}

export class Overview {
  private readonly rows = new Map<string, Row>();
  /** The listed rows, with group headers when grouping by a tag. */
  private order: Entry[] = [];
  private orderedAt = 0;
  private orderStale = true;
  private readonly pool: PoolRow[] = [];
  private scheduled = false;
  private readonly view: View = {
    text: '',
    status: 'all',
    sort: 'risk',
    descending: true,
    group: '',
  };
  /** Tag keys seen so far, for the "group by" choices; onTagKeys hears of new ones. */
  private keys: string[] = [];
  onTagKeys: ((keys: string[]) => void) | undefined;
  private readonly spacer: HTMLDivElement;
  private readonly head: HTMLDivElement;
  private visible = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly scroller: HTMLElement,
    private readonly onOpen: (id: string) => void,
    private readonly countEl: HTMLElement,
  ) {
    this.head = el('div', { className: 'ov-row ov-head' });
    this.head.setAttribute('role', 'row');
    for (const c of COLUMNS) {
      const h = el('button', { className: `ov-c ov-${c.key}`, textContent: c.label });
      h.title = c.title ?? `sort by ${c.label}`;
      h.dataset['key'] = c.key;
      h.setAttribute('role', 'columnheader');
      h.onclick = () => this.sortBy(c.key);
      this.head.append(h);
    }
    const spark = el('span', { className: 'ov-c ov-spark', textContent: 'Risk trend' });
    this.head.append(spark);
    this.spacer = el('div', { className: 'ov-spacer' });
    root.prepend(this.head);
    scroller.append(this.spacer);
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroller);
    // Ages tick without new samples.
    setInterval(() => this.schedule(), 1000);
  }

  setVisible(v: boolean): void {
    this.visible = v;
    if (v) this.schedule(true);
  }

  /** A score update: the row's values and its sparkline. */
  update(u: ScoreUpdate): void {
    let r = this.rows.get(u.strategy);
    if (!r) {
      r = { id: u.strategy, u, alerts: { critical: 0, warning: 0, info: 0 }, risk: [] };
      this.rows.set(u.strategy, r);
      this.orderStale = true;
    }
    if (u.tags && Object.keys(u.tags).some((k) => !this.keys.includes(k))) {
      this.keys = tagKeys([...this.rows.values(), { ...r, u }]);
      this.onTagKeys?.(this.keys);
    }
    // A replayed or snapshot update older than the one shown is not a new point.
    if (r.u.ts > u.ts || (r.u !== u && r.u.count > u.count && r.u.ts === u.ts)) return;
    if (r.u !== u || r.risk.length === 0) {
      r.risk.push(u.scores.risk);
      if (r.risk.length > SPARK_POINTS) r.risk.shift();
    }
    r.u = u;
    this.schedule();
  }

  /** A retired strategy (its strategy_retired event): its row goes. */
  remove(id: string): void {
    if (!this.rows.delete(id)) return;
    this.orderStale = true;
    this.schedule();
  }

  /** The active alerts changed: recount per strategy. */
  setAlerts(active: Iterable<AlertEvent>): void {
    const counts = alertCounts(active);
    for (const r of this.rows.values()) {
      r.alerts = counts.get(r.id) ?? { critical: 0, warning: 0, info: 0 };
    }
    this.orderStale = true;
    this.schedule();
  }

  /** Filter text (id fragments, `desk=rates` tag conditions), status, and a tag key to group by ('' none). */
  setFilter(text: string, status: StatusFilter, group = this.view.group ?? ''): void {
    this.view.text = text;
    this.view.status = status;
    this.view.group = group;
    this.scroller.scrollTop = 0;
    this.schedule(true);
  }

  sortBy(key: ColumnKey): void {
    if (this.view.sort === key) this.view.descending = !this.view.descending;
    else {
      this.view.sort = key;
      this.view.descending = COLUMNS.find((c) => c.key === key)?.numeric ?? false;
    }
    this.schedule(true);
  }

  /** What is shown, for tests and the count line. */
  get shownIds(): string[] {
    return this.order.flatMap((e) => (e.row ? [e.row.id] : []));
  }

  private schedule(reorder = false): void {
    if (reorder) this.orderStale = true;
    if (reorder) this.orderedAt = 0;
    if (this.scheduled || !this.visible) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.paint();
    });
  }

  private paint(): void {
    const now = Date.now();
    if (this.orderedAt === 0 || (this.orderStale && now - this.orderedAt >= RESORT_MS)) {
      this.order = overviewEntries(this.rows.values(), this.view, now);
      this.orderedAt = now;
      this.orderStale = false;
      this.spacer.style.height = `${this.order.length * ROW_H}px`;
      const shown = this.order.reduce((n, e) => n + (e.row ? 1 : 0), 0);
      this.countEl.textContent = `${shown} of ${this.rows.size} strategies`;
      for (const b of this.head.querySelectorAll<HTMLButtonElement>('button')) {
        const on = b.dataset['key'] === this.view.sort;
        b.dataset['sort'] = on ? (this.view.descending ? 'desc' : 'asc') : '';
      }
    } else if (this.rows.size !== 0) {
      // Values change in place between re-sorts; new rows wait for the next one.
      this.orderStale = true;
    }
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(this.order.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    const needed = last - first;
    while (this.pool.length < needed) this.pool.push(this.newRow());
    for (let i = 0; i < this.pool.length; i++) {
      const p = this.pool[i]!;
      const e = this.order[first + i];
      if (i >= needed || !e) {
        if (p.node.parentNode) p.node.remove();
        continue;
      }
      if (!p.node.parentNode) this.scroller.append(p.node);
      p.node.style.top = `${(first + i) * ROW_H}px`;
      if (e.head) this.fillHead(p, e.head);
      else this.fill(p, e.row, now);
    }
  }

  private newRow(): PoolRow {
    const node = el('div', { className: 'ov-row' });
    node.setAttribute('role', 'row');
    node.tabIndex = 0;
    const cells = COLUMNS.map((c) => el('span', { className: `ov-c ov-${c.key}` }));
    const spark = el('canvas', { className: 'ov-spark' });
    spark.width = 80;
    spark.height = 18;
    const p: PoolRow = {
      node,
      cells,
      texts: cells.map(() => ''),
      tones: cells.map(() => ''),
      spark,
      sparkKey: '',
      id: '',
    };
    node.append(...cells, el('span', { className: 'ov-c ov-spark' }, spark));
    node.onclick = () => {
      if (p.id) this.onOpen(p.id);
    };
    node.onkeydown = (e) => {
      if (e.key === 'Enter' && p.id) this.onOpen(p.id);
    };
    return p;
  }

  /** A group's header row: "desk rates · 12 strategies · 3 alerting" across the row. */
  private fillHead(p: PoolRow, h: GroupHead): void {
    p.id = '';
    delete p.node.dataset['strategy'];
    p.node.dataset['kind'] = 'group';
    p.node.dataset['level'] = h.worst ?? '';
    p.node.dataset['group'] = h.value;
    const name = h.value === '' ? `no ${h.group}` : `${h.group} ${h.value}`;
    const alerting = h.alerting ? ` · ${h.alerting} alerting` : '';
    const texts = [`${name} · ${h.rows} ${h.rows === 1 ? 'strategy' : 'strategies'}${alerting}`];
    for (let i = 0; i < p.cells.length; i++) {
      const text = texts[i] ?? '';
      if (p.texts[i] !== text) {
        p.texts[i] = text;
        p.cells[i]!.textContent = text;
      }
      if (p.tones[i] !== '') {
        p.tones[i] = '';
        p.cells[i]!.dataset['tone'] = '';
      }
    }
    if (p.sparkKey !== '') {
      p.sparkKey = '';
      p.spark.getContext('2d')?.clearRect(0, 0, p.spark.width, p.spark.height);
    }
  }

  private fill(p: PoolRow, r: Row, now: number): void {
    const u = r.u;
    const m = u.metrics;
    if (p.id !== r.id) {
      p.id = r.id;
      p.node.dataset['strategy'] = r.id;
    }
    if (p.node.dataset['kind'] !== 'strategy') {
      p.node.dataset['kind'] = 'strategy';
      delete p.node.dataset['group'];
    }
    const level = worstLevel(r) ?? '';
    if (p.node.dataset['level'] !== level) p.node.dataset['level'] = level;
    const a = r.alerts;
    const values: [string, string][] = [
      [r.id, ''],
      [tagsText(u), ''],
      [u.scores.performance.toFixed(1), PERF_TONE[u.status.performance]],
      [u.scores.risk.toFixed(1), RISK_TONE[u.status.risk]],
      [u.scores.stability.toFixed(1), u.scores.stability > 80 ? 'ok' : 'warn'],
      [fmt(m.sharpeRatio), ''],
      [pct(m.currentDrawdown, 1), ''],
      [pct(m.maxDrawdown, 1), ''],
      [pct(m.valueAtRisk, 1), ''],
      [pct(m.annualVolatility, 1), ''],
      [String(u.count), ''],
      lastSampleCell(now, u.ts),
      [a.critical + a.warning + a.info === 0 ? '–' : `${a.critical}/${a.warning}/${a.info}`, level],
    ];
    for (let i = 0; i < values.length; i++) {
      const [text, tone] = values[i]!;
      const cell = p.cells[i]!;
      if (p.texts[i] !== text) {
        p.texts[i] = text;
        cell.textContent = text;
      }
      if (p.tones[i] !== tone) {
        p.tones[i] = tone;
        cell.dataset['tone'] = tone;
      }
    }
    const key = `${r.id}|${r.risk.length}|${r.risk[r.risk.length - 1] ?? ''}`;
    if (p.sparkKey !== key) {
      p.sparkKey = key;
      drawSpark(p.spark, r.risk);
    }
  }
}

/** The risk score's recent path on a fixed 0-100 scale, with the 30 and 50 bands. */
function drawSpark(c: HTMLCanvasElement, values: readonly number[]): void {
  const g = c.getContext('2d');
  if (!g) return;
  const w = c.width;
  const h = c.height;
  g.clearRect(0, 0, w, h);
  g.fillStyle = 'rgba(248,81,73,0.12)';
  g.fillRect(0, 0, w, h * 0.5); // above 50: HIGH
  if (values.length < 2) return;
  g.strokeStyle = (values[values.length - 1] ?? 0) > 50 ? '#f85149' : '#58a6ff';
  g.lineWidth = 1.5;
  g.beginPath();
  const step = w / (Math.max(values.length, 2) - 1);
  values.forEach((v, i) => {
    const y = h - (Math.min(100, Math.max(0, v)) / 100) * h;
    if (i === 0) g.moveTo(0, y);
    else g.lineTo(i * step, y);
  });
  g.stroke();
}
