/**
 * bench/soak.ts's PNG: memory over time. The top panel is each series in
 * MiB; the bottom one each series' running median relative to its value
 * at a third of the run (the table's reference), from the end of warm-up
 * on, with the limit drawn: a flat line inside the band is what the soak
 * asks for.
 */
import { Canvas, type Rgb } from './soak-png.js';
import type { Row, Series } from './soak-memory.js';

const PALETTE: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
const INK: Rgb = [30, 30, 30];
const GRID: Rgb = [225, 225, 225];
const MARK: Rgb = [150, 150, 150];

export interface ChartInput {
  title: string;
  series: readonly Series[];
  rows: readonly Row[];
  runSeconds: number;
  warmupSeconds: number;
  limitPct: number;
}

/** 1, 2 or 5 times a power of ten, giving about `n` steps over `span`. */
function niceStep(span: number, n: number): number {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  yMin: number;
  yMax: number;
}

/** Each point replaced by the median of the points within `half` seconds of it. */
export function runningMedian(
  points: readonly [number, number][],
  half: number,
): [number, number][] {
  return points.map(([t]) => {
    const v = points
      .filter(([u]) => Math.abs(u - t) <= half)
      .map(([, b]) => b)
      .sort((a, b) => a - b);
    return [t, v[v.length >> 1]!];
  });
}

export function renderChart(input: ChartInput): Buffer {
  const W = 1500;
  const H = 1000;
  const c = new Canvas(W, H);
  const left = 110;
  const right = W - 420;
  const minutes = input.runSeconds / 60;
  c.text(left, 18, input.title, INK, 2);

  const mib = 1048576;
  const inBytes = input.series.filter((s) => s.unit === undefined);
  const max = Math.max(1, ...inBytes.flatMap((s) => s.points.map(([, b]) => b / mib)));
  const top: Panel = { x: left, y: 70, w: right - left, h: 480, yMin: 0, yMax: max * 1.08 };
  const bottom: Panel = { x: left, y: 640, w: right - left, h: 280, yMin: -20, yMax: 20 };
  const xOf = (p: Panel, sec: number): number => p.x + (sec / 60 / minutes) * p.w;
  const yOf = (p: Panel, v: number): number =>
    p.y + p.h - ((Math.min(p.yMax, Math.max(p.yMin, v)) - p.yMin) / (p.yMax - p.yMin)) * p.h;

  const axes = (p: Panel, unit: string, label: (v: number) => string): void => {
    const ys = niceStep(p.yMax - p.yMin, 6);
    for (let v = Math.ceil(p.yMin / ys) * ys; v <= p.yMax + 1e-9; v += ys) {
      const y = yOf(p, v);
      c.line(p.x, y, p.x + p.w, y, GRID);
      const t = label(v);
      c.text(p.x - 12 - Canvas.textWidth(t), y - 7, t, INK);
    }
    const xs = niceStep(minutes, 10);
    for (let m = 0; m <= minutes + 1e-9; m += xs) {
      const x = xOf(p, m * 60);
      c.line(x, p.y, x, p.y + p.h, GRID);
      const t = Number.isInteger(m) ? String(m) : m.toFixed(1);
      c.text(x - Canvas.textWidth(t) / 2, p.y + p.h + 10, t, INK);
    }
    c.line(p.x, p.y, p.x, p.y + p.h, INK, 2);
    c.line(p.x, p.y + p.h, p.x + p.w, p.y + p.h, INK, 2);
    c.text(p.x - 100, p.y - 26, unit, INK);
    c.text(p.x + p.w - Canvas.textWidth('minutes'), p.y + p.h + 34, 'minutes', INK);
    for (const [sec, name] of [
      [input.warmupSeconds, 'warm-up'],
      [input.runSeconds / 3, '1/3'],
    ] as const) {
      const x = xOf(p, sec);
      c.line(x, p.y, x, p.y + p.h, MARK, 2, 6);
      c.text(x + 6, p.y + 6, name, MARK);
    }
  };

  axes(top, 'MiB', (v) => v.toFixed(v < 10 ? 1 : 0));
  axes(bottom, '% OF 1/3', (v) => `${v > 0 ? '+' : ''}${v.toFixed(0)}`);
  c.text(bottom.x + 8, bottom.y - 26, 'RUNNING MEDIAN, RELATIVE TO THE FITTED VALUE AT 1/3', MARK);
  // The limit's band on the relative panel.
  for (const v of [input.limitPct, -input.limitPct]) {
    c.line(bottom.x, yOf(bottom, v), bottom.x + bottom.w, yOf(bottom, v), [220, 60, 60], 1, 10);
  }
  c.text(
    bottom.x + 8,
    yOf(bottom, input.limitPct) - 18,
    `+${input.limitPct} % limit`,
    [200, 40, 40],
  );

  input.series.forEach((s, i) => {
    const col = PALETTE[i % PALETTE.length]!;
    const row = input.rows.find((r) => r.name === s.name);
    const plotPoints = (
      p: Panel,
      points: readonly [number, number][],
      v: (b: number) => number,
      from: number,
    ): void => {
      let prev: [number, number] | undefined;
      for (const [t, b] of points) {
        if (t < from) continue;
        const pt: [number, number] = [xOf(p, t), yOf(p, v(b))];
        if (prev) c.line(prev[0], prev[1], pt[0], pt[1], col, 2);
        prev = pt;
      }
    };
    if (s.unit === undefined) plotPoints(top, s.points, (b) => b / mib, 0);
    if (row && Number.isFinite(row.third) && row.third > 0) {
      // A running median (a fifteenth of the run) here: the trend, not the GC sawtooth.
      const smooth = runningMedian(s.points, input.runSeconds / 30);
      plotPoints(bottom, smooth, (b) => ((b - row.third) / row.third) * 100, input.warmupSeconds);
    }
    // Legend: name, growth, verdict.
    const ly = 80 + i * 56;
    c.rect(right + 30, ly + 2, 22, 12, col);
    c.text(right + 62, ly, s.name, INK);
    if (row) {
      const g = Number.isFinite(row.growthPct)
        ? `${row.growthPct >= 0 ? '+' : ''}${row.growthPct.toFixed(1)} %`
        : '-';
      const tone: Rgb =
        row.verdict === 'FAIL' ? [200, 30, 30] : row.verdict === 'PASS' ? [30, 140, 30] : MARK;
      const end =
        s.unit === 'count' ? `${Math.round(row.end)} KEYS` : `${(row.end / mib).toFixed(1)} MIB`;
      c.text(right + 62, ly + 22, `${end}  ${g}  ${row.verdict}`, tone);
    }
  });
  return c.png();
}
