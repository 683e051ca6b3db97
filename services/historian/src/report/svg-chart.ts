import type { SeriesPoint } from './report-analysis.js';

/**
 * Pure: a small line (or area) chart as inline SVG, no script: the report
 * must open anywhere, offline. Long series are reduced to at most ~1000
 * points per chart (every k-th point, the extremes of each stride kept).
 */

export interface ChartOptions {
  title: string;
  width?: number;
  height?: number;
  color: string;
  /** Fill between the line and zero (drawdown). */
  area?: boolean;
  format: (v: number) => string;
  /** A dashed reference line (e.g. 0, or a target). */
  reference?: number;
}

const esc = (s: string): string =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

function reduce(points: readonly SeriesPoint[], max = 1000): SeriesPoint[] {
  if (points.length <= max) return [...points];
  const stride = Math.ceil(points.length / (max / 2));
  const out: SeriesPoint[] = [];
  for (let i = 0; i < points.length; i += stride) {
    const slice = points.slice(i, i + stride);
    let lo = slice[0]!;
    let hi = slice[0]!;
    for (const p of slice) {
      if (p.value < lo.value) lo = p;
      if (p.value > hi.value) hi = p;
    }
    out.push(...(lo.ts <= hi.ts ? [lo, hi] : [hi, lo]));
  }
  const last = points[points.length - 1]!;
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function lineChart(series: readonly SeriesPoint[], o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 220;
  const pad = { left: 64, right: 16, top: 28, bottom: 28 };
  const title = `<text x="${pad.left}" y="18" class="chart-title">${esc(o.title)}</text>`;
  if (series.length < 2) {
    return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(o.title)}">${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="muted">not enough samples</text></svg>`;
  }
  const pts = reduce(series);
  const t0 = pts[0]!.ts;
  const t1 = pts[pts.length - 1]!.ts;
  let lo = Math.min(...pts.map((p) => p.value), o.reference ?? Infinity, o.area ? 0 : Infinity);
  let hi = Math.max(...pts.map((p) => p.value), o.reference ?? -Infinity, o.area ? 0 : -Infinity);
  if (hi === lo) {
    hi += Math.abs(hi) * 0.1 || 1;
    lo -= Math.abs(lo) * 0.1 || 1;
  }
  const x = (ts: number): number =>
    pad.left + ((ts - t0) / Math.max(1, t1 - t0)) * (width - pad.left - pad.right);
  const y = (v: number): number =>
    pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const path = pts
    .map((p, i) => `${i ? 'L' : 'M'}${x(p.ts).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join('');
  const area = o.area
    ? `<path d="${path}L${x(t1).toFixed(1)},${y(0).toFixed(1)}L${x(t0).toFixed(1)},${y(0).toFixed(1)}Z" fill="${o.color}" fill-opacity="0.25" stroke="none"/>`
    : '';
  const ref =
    o.reference !== undefined
      ? `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(o.reference).toFixed(1)}" y2="${y(o.reference).toFixed(1)}" class="ref"/>`
      : '';
  const axis =
    `<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${height - pad.bottom}" class="axis"/>` +
    `<line x1="${pad.left}" x2="${width - pad.right}" y1="${height - pad.bottom}" y2="${height - pad.bottom}" class="axis"/>` +
    `<text x="${pad.left - 6}" y="${pad.top + 4}" text-anchor="end" class="tick">${esc(o.format(hi))}</text>` +
    `<text x="${pad.left - 6}" y="${height - pad.bottom}" text-anchor="end" class="tick">${esc(o.format(lo))}</text>` +
    `<text x="${pad.left}" y="${height - 8}" class="tick">${day(t0)}</text>` +
    `<text x="${width - pad.right}" y="${height - 8}" text-anchor="end" class="tick">${day(t1)}</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(o.title)}">${title}${axis}${ref}${area}<path d="${path}" fill="none" stroke="${o.color}" stroke-width="1.5"/></svg>`;
}
