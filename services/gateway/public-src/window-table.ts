import type { MetricValue, ScoreUpdate, StrategyMetrics } from '@quantmon/shared';
import { el, fmt, pct } from './format.js';

/** The strategy view's metrics, as rows of label and formatter. */
const ROWS: [string, keyof StrategyMetrics, (v: MetricValue | undefined) => string][] = [
  ['Sharpe', 'sharpeRatio', fmt],
  ['Sortino', 'sortinoRatio', fmt],
  ['Information ratio', 'informationRatio', fmt],
  ['Annual volatility', 'annualVolatility', pct],
  ['Current drawdown', 'currentDrawdown', pct],
  ['Max drawdown', 'maxDrawdown', pct],
  ['VaR (5 %)', 'valueAtRisk', pct],
  ['CVaR (5 %)', 'conditionalValueAtRisk', pct],
  ['Win rate', 'winRate', pct],
  ['Cumulative return', 'cumulativeReturn', pct],
  ['Beta', 'beta', fmt],
  ['Tracking error', 'trackingError', pct],
];

/**
 * The metrics table of the strategy view: one column per window when the
 * strategy catalogue gives the strategy extra windows (the main window
 * first, each headed by its name and sample count), else the label and
 * value columns as before.
 */
export function renderMetricTable(table: HTMLTableElement, u: ScoreUpdate): void {
  const extra = Object.entries(u.windows ?? {});
  const columns = [
    { name: 'main', count: u.count, metrics: u.metrics },
    ...extra.map(([name, w]) => ({ name, count: w.count, metrics: w.metrics })),
  ];
  table.tHead?.remove();
  if (extra.length > 0) {
    const head = table.createTHead();
    head.append(
      el(
        'tr',
        {},
        el('th', { textContent: '' }),
        ...columns.map((c) => el('th', { textContent: `${c.name} (${c.count})` })),
      ),
    );
  }
  table.tBodies[0]?.replaceChildren(
    ...ROWS.map(([label, key, show]) =>
      el(
        'tr',
        {},
        el('td', { textContent: label }),
        ...columns.map((c) => el('td', { textContent: show(c.metrics[key]) })),
      ),
    ),
    // The catalogue's derived metrics (computed once per update, over every window): one row each.
    ...Object.entries(u.derived ?? {}).map(([name, v]) => {
      const row = el(
        'tr',
        { className: 'derived' },
        el('td', { textContent: name, title: 'derived metric (strategy catalogue)' }),
        el('td', { textContent: fmt(v) }),
      );
      if (columns.length > 1) row.cells[1]!.colSpan = columns.length;
      return row;
    }),
  );
}

/** What the catalogue says about the strategy, for the view's heading: periods a year and tags. */
export function catalogueNote(u: ScoreUpdate): string {
  const parts: string[] = [];
  if (u.params)
    parts.push(`${Math.round(u.params.periodsPerYear).toLocaleString()} periods a year`);
  for (const [k, v] of Object.entries(u.tags ?? {})) parts.push(`${k}=${v}`);
  return parts.length > 0 ? ` · ${parts.join(' · ')}` : '';
}
