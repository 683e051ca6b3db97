/**
 * The measurements of bench/soak.ts and what they say, pure but for the
 * /proc read: resident memory of a process (VmRSS), Redis's INFO fields,
 * and per series the table row (after warm-up, at a third of the run, at the
 * end, growth over the last two thirds, PASS or FAIL).
 *
 * A Node process's resident memory saw-tooths with its garbage collector
 * (tens of MiB every few seconds under load), so the table's "at 1/3" and
 * "end" are read off a least-squares line fitted to every sample of the
 * last two thirds, not two single samples: one taken just before a major GC
 * and one just after would decide the verdict otherwise. A steady leak is
 * a slope whatever the sawtooth; a flat process fits a flat line. "After
 * warm-up" is the median of the samples just after the warm-up.
 */
import { readFileSync } from 'node:fs';

/** Resident memory of `pid` in bytes (VmRSS of /proc/<pid>/status); undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** `INFO` text as field -> value. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

export interface Series {
  name: string;
  /** Judged against the limit (PASS/FAIL); otherwise shown for information. */
  judged: boolean;
  /** Why a series is not judged, shown under the table. */
  note?: string;
  /** Bytes unless `count` (Redis's keys): a count is judged alike but not drawn in MiB. */
  unit?: 'count';
  /** [seconds since the load started, bytes or count]. */
  points: [number, number][];
}

export interface Row {
  name: string;
  judged: boolean;
  unit?: 'count';
  warm: number;
  third: number;
  end: number;
  /** (end - third) / third, percent. */
  growthPct: number;
  verdict: 'PASS' | 'FAIL' | 'info' | 'no data';
}

/** The median of the points within `half` seconds of `at` (at least the 3 nearest). */
export function valueAt(points: readonly [number, number][], at: number, half: number): number {
  let near = points.filter(([t]) => Math.abs(t - at) <= half);
  if (near.length < 3) {
    near = [...points].sort((a, b) => Math.abs(a[0] - at) - Math.abs(b[0] - at)).slice(0, 3);
  }
  const v = near.map(([, b]) => b).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Least-squares line through the points: value = intercept + slope * t. */
export function fitLine(points: readonly [number, number][]): { intercept: number; slope: number } {
  const n = points.length;
  let st = 0;
  let sv = 0;
  for (const [t, v] of points) {
    st += t;
    sv += v;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - mt) * (v - mv);
    den += (t - mt) ** 2;
  }
  const slope = den > 0 ? num / den : 0;
  return { intercept: mv - slope * mt, slope };
}

/**
 * The table row of one series over a run of `runSeconds` whose first
 * `warmupSeconds` are warm-up: growth from a third of the run to its end
 * along the line fitted to the samples of that span.
 */
export function summarise(
  s: Series,
  runSeconds: number,
  warmupSeconds: number,
  limitPct: number,
): Row {
  const half = Math.max(runSeconds / 40, 1);
  const tail = s.points.filter(([t]) => t >= runSeconds / 3);
  if (tail.length < 3) {
    return {
      name: s.name,
      judged: s.judged,
      ...(s.unit ? { unit: s.unit } : {}),
      warm: NaN,
      third: NaN,
      end: NaN,
      growthPct: NaN,
      verdict: 'no data',
    };
  }
  const lastT = tail[tail.length - 1]![0];
  const line = fitLine(tail);
  const warm = valueAt(s.points, warmupSeconds + half, half);
  const third = line.intercept + line.slope * (runSeconds / 3);
  const end = line.intercept + line.slope * lastT;
  const growthPct = ((end - third) / third) * 100;
  const verdict = !s.judged ? 'info' : growthPct < limitPct ? 'PASS' : 'FAIL';
  const unit = s.unit ? { unit: s.unit } : {};
  return { name: s.name, judged: s.judged, ...unit, warm, third, end, growthPct, verdict };
}

const mib = (b: number): string => (Number.isFinite(b) ? (b / 1048576).toFixed(1) : '–');

/** The printed table: one row per series, MiB, growth with its sign. */
export function formatTable(rows: readonly Row[], limitPct: number): string {
  const head = ['process', 'after warm-up', 'at 1/3', 'end', 'growth 1/3→end', `< ${limitPct} %`];
  const v = (r: Row, x: number): string =>
    r.unit === 'count'
      ? Number.isFinite(x)
        ? Math.round(x).toLocaleString('en-US')
        : '–'
      : `${mib(x)} MiB`;
  const body = rows.map((r) => [
    r.name,
    v(r, r.warm),
    v(r, r.third),
    v(r, r.end),
    Number.isFinite(r.growthPct)
      ? `${r.growthPct >= 0 ? '+' : ''}${r.growthPct.toFixed(1)} %`
      : '–',
    r.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
