import { METRIC_NAMES } from '@quantmon/shared';
import type { Report } from './report-analysis.js';
import { lineChart } from './svg-chart.js';

/**
 * Pure: the report as one self-contained HTML document (inline CSS and
 * SVG, no script to run, nothing fetched). The metrics are also embedded as
 * JSON (`<script type="application/json" id="metrics">`), encoded as `npm
 * run metrics` prints them, so a reader or a test can compare the two.
 */

const esc = (s: string): string =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

const pct = (v: number, digits = 2): string =>
  Number.isFinite(v)
    ? `${(v * 100).toFixed(digits)}%`
    : v === Infinity
      ? '∞'
      : v === -Infinity
        ? '−∞'
        : '–';
const num = (v: number, digits = 2): string =>
  Number.isFinite(v) ? v.toFixed(digits) : v === Infinity ? '∞' : v === -Infinity ? '−∞' : '–';
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const duration = (ms: number | null): string => {
  if (ms === null) return '–';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(ms < 600_000 ? 1 : 0)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
};

/** Which metrics read as percentages. */
const PERCENT = new Set([
  'cumulativeReturn',
  'annualReturn',
  'annualVolatility',
  'downsideRisk',
  'maxDrawdown',
  'currentDrawdown',
  'valueAtRisk',
  'conditionalValueAtRisk',
  'alpha',
  'trackingError',
  'winRate',
]);

const LABEL: Record<string, string> = {
  cumulativeReturn: 'Cumulative return',
  annualReturn: 'Annual return',
  annualVolatility: 'Annual volatility',
  sharpeRatio: 'Sharpe ratio',
  downsideRisk: 'Downside risk',
  sortinoRatio: 'Sortino ratio',
  maxDrawdown: 'Max drawdown',
  currentDrawdown: 'Current drawdown',
  calmarRatio: 'Calmar ratio',
  valueAtRisk: 'Value at risk (95%)',
  conditionalValueAtRisk: 'Conditional VaR (95%)',
  omegaRatio: 'Omega ratio',
  tailRatio: 'Tail ratio',
  beta: 'Beta',
  alpha: 'Alpha (annual)',
  correlation: 'Correlation',
  trackingError: 'Tracking error',
  informationRatio: 'Information ratio',
  winRate: 'Win rate',
  profitFactor: 'Profit factor',
  recoveryFactor: 'Recovery factor',
  riskAdjustedReturn: 'Risk-adjusted return',
};

/** JSON as `npm run metrics` prints it: NaN as null, infinities as strings; `<` escaped for a script tag. */
export function metricsJson(metrics: Record<string, number>): string {
  return JSON.stringify(metrics, (_k, v: unknown) =>
    typeof v !== 'number' || Number.isFinite(v)
      ? v
      : Number.isNaN(v)
        ? null
        : v > 0
          ? 'Infinity'
          : '-Infinity',
  ).replaceAll('<', '\\u003c');
}

const tone = (status: string): string =>
  ({
    EXCELLENT: 'good',
    GOOD: 'ok',
    'NEEDS IMPROVEMENT': 'bad',
    LOW: 'good',
    MODERATE: 'ok',
    HIGH: 'bad',
    STABLE: 'good',
    UNSTABLE: 'bad',
  })[status] ?? 'ok';

function card(title: string, score: number, status: string, target: string): string {
  return `<div class="card ${tone(status)}"><div class="card-title">${title}</div><div class="score">${score.toFixed(1)}</div><div class="status">${esc(status)}</div><div class="muted">${target}</div></div>`;
}

function monthlyTable(r: Report): string {
  const names = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const cell = (v: number | null): string => {
    if (v === null) return '<td class="empty"></td>';
    const a = Math.min(1, Math.abs(v) / 0.05);
    const bg =
      v >= 0
        ? `rgba(22,163,74,${(0.15 + 0.6 * a).toFixed(2)})`
        : `rgba(220,38,38,${(0.15 + 0.6 * a).toFixed(2)})`;
    return `<td style="background:${bg}">${pct(v, 1)}</td>`;
  };
  const rows = r.monthly
    .map(
      (y) =>
        `<tr><th>${y.year}</th>${y.months.map(cell).join('')}<td class="total">${pct(y.total, 1)}</td></tr>`,
    )
    .join('');
  return `<table class="monthly"><thead><tr><th></th>${names.map((n) => `<th>${n}</th>`).join('')}<th>Year</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function alertTable(r: Report): string {
  if (r.alerts.length === 0)
    return '<p class="muted">No alert fired for this strategy in the range.</p>';
  const rows = r.alerts
    .map(
      (a) =>
        `<tr><td>${esc(a.rule)}</td><td><span class="level ${esc(a.level)}">${esc(a.level)}</span></td><td class="n">${a.fired}</td><td class="n">${a.acknowledged}</td><td class="n">${duration(a.medianAckMs)}</td><td class="n">${duration(a.maxAckMs)}</td></tr>`,
    )
    .join('');
  return `<table class="alerts"><thead><tr><th>Rule</th><th>Level</th><th class="n">Incidents</th><th class="n">Acknowledged</th><th class="n">Median time to ack</th><th class="n">Longest</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function recommendationList(r: Report): string {
  if (r.recommendations.length === 0) {
    return '<p class="muted">No alert rule fired in the range: no action recommended.</p>';
  }
  return `<ul class="recs">${r.recommendations
    .map(
      (x) =>
        `<li><span class="level ${esc(x.level)}">${esc(x.level)}</span> <strong>${esc(x.rule)}</strong>: ${esc(x.text)}</li>`,
    )
    .join('')}</ul>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111827;background:#f9fafb;margin:0}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.muted{color:#6b7280}.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.card{background:#fff;border:1px solid #e5e7eb;border-left:6px solid #9ca3af;border-radius:6px;padding:12px 16px}
.card.good{border-left-color:#16a34a}.card.ok{border-left-color:#d97706}.card.bad{border-left-color:#dc2626}
.card-title{font-weight:600;color:#374151}.score{font-size:30px;font-weight:700}.status{font-weight:600;letter-spacing:.03em}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e5e7eb}
th,td{padding:5px 8px;border-bottom:1px solid #f3f4f6;text-align:left}td.n,th.n{text-align:right}
.metrics{display:grid;grid-template-columns:1fr 1fr;gap:0 16px}
.monthly td,.monthly th{text-align:center;font-size:12px;padding:4px}.monthly td.total{font-weight:700}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px}.charts svg{background:#fff;border:1px solid #e5e7eb;border-radius:6px;width:100%;height:auto}
.chart-title{font-weight:600;font-size:13px;fill:#374151}.tick{font-size:11px;fill:#6b7280}.axis{stroke:#d1d5db}.ref{stroke:#9ca3af;stroke-dasharray:4 3}
.level{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;color:#fff;background:#6b7280}
.level.critical{background:#dc2626}.level.warning{background:#d97706}.level.info{background:#2563eb}
.recs li{margin:4px 0}footer{margin-top:32px;font-size:12px;color:#6b7280}
@media print{body{background:#fff}}
`;

export function renderReport(r: Report, generatedAt: number): string {
  const half = Math.ceil(METRIC_NAMES.length / 2);
  const metricRow = (m: (typeof METRIC_NAMES)[number]): string =>
    `<tr><td>${LABEL[m] ?? m}</td><td class="n">${PERCENT.has(m) ? pct(r.metrics[m]) : num(r.metrics[m])}</td></tr>`;
  const metricTable = (names: readonly (typeof METRIC_NAMES)[number][]): string =>
    `<table><tbody>${names.map(metricRow).join('')}</tbody></table>`;
  const charts = [
    lineChart(r.equity, {
      title: 'Equity curve (growth of 1)',
      color: '#2563eb',
      format: (v) => v.toFixed(3),
      reference: 1,
    }),
    lineChart(r.drawdown, {
      title: 'Drawdown',
      color: '#dc2626',
      area: true,
      format: (v) => pct(v, 1),
    }),
    lineChart(r.rollingSharpe, {
      title: `Rolling Sharpe (${r.rollingWindow} samples)`,
      color: '#7c3aed',
      format: (v) => v.toFixed(2),
      reference: 0,
    }),
    lineChart(r.rollingVolatility, {
      title: `Rolling volatility, annualised (${r.rollingWindow} samples)`,
      color: '#d97706',
      format: (v) => pct(v, 1),
    }),
  ];
  const span =
    r.firstTs !== null && r.lastTs !== null ? `${day(r.firstTs)} to ${day(r.lastTs)}` : 'none';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>quantmon report: ${esc(r.strategy)} ${day(r.from)} to ${day(r.to)}</title><style>${CSS}</style></head>
<body><main>
<h1>Assessment report: ${esc(r.strategy)}</h1>
<div class="muted">Range ${new Date(r.from).toISOString()} to ${new Date(r.to).toISOString()} · ${r.samples} samples (${span}) · generated ${new Date(generatedAt).toISOString()}</div>
<h2>Overall assessment</h2>
<div class="cards">
${card('Performance', r.scores.performance, r.status.performance, 'EXCELLENT &gt; 70 · GOOD 50–70')}
${card('Risk', r.scores.risk, r.status.risk, 'LOW &lt; 30 · MODERATE 30–50 · HIGH &gt; 50')}
${card('Stability', r.scores.stability, r.status.stability, 'STABLE &gt; 80')}
</div>
<h2>Metrics over the range</h2>
<div class="metrics">${metricTable(METRIC_NAMES.slice(0, half))}${metricTable(METRIC_NAMES.slice(half))}</div>
<h2>Charts</h2>
<div class="charts">${charts.join('')}</div>
<h2>Monthly returns</h2>
${monthlyTable(r)}
<h2>Alerts by rule and level</h2>
${alertTable(r)}
<h2>Recommendations</h2>
${recommendationList(r)}
<footer>Metrics computed by quantmon's scorer code over the stored returns (periods per year 252, risk-free 0, VaR cutoff 5%); they equal <code>npm run -s metrics</code> over the same returns.</footer>
</main>
<script type="application/json" id="metrics">${metricsJson(r.metrics)}</script>
</body></html>
`;
}
