/**
 * What bench/scale.ts measures, and the table it prints: medians over the
 * measured runs of each configuration, the idle CPU of each topology, and
 * the raw XADD baseline.
 */
import { quantile } from './collector-support.js';
import type { TopologyName } from './scale-topology.js';

/** One measured run; µs figures are CPU microseconds per sample. */
export interface Run {
  seconds: number;
  samples: number;
  /** Samples per second, first publish to every partition scored. */
  rate: number;
  /** Samples per second the load process alone took to send. */
  publishRate: number;
  scorerUs: number[];
  /** The collector's (HTTP ingest), and with --pipeline the alerter's and the gateway's. */
  serviceUs: Partial<Record<'collector' | 'alerter' | 'gateway', number>>;
  redisPrimaryUs: number;
  redisReplicaUs: number;
  /** The busiest primary's share: on a Cluster, partitions' slots need not spread evenly. */
  redisBusiestUs: number;
  /** Backlog runs: the primaries' µs/sample while the load was written, and while the scorers drained it. */
  redisIngestUs?: number;
  redisScoringUs?: number;
  loadUs: number;
  /** CPU used by anything else on the machine during the run, in cores. */
  otherCores: number;
  /** Score updates written, and samples published. */
  scored: number;
  written: number;
  /** Samples per scorer write (one per read batch). */
  batch: number;
}

export interface Row {
  topology: TopologyName;
  replicas: number;
  /** The partitions of each replica. */
  shares: number[][];
  runs: Run[];
}

/** CPU in cores with no samples flowing: what the processes cost before any sample. */
export interface Idle {
  redisPrimary: number;
  redisReplica: number;
  /** Per scorer replica (mean). */
  scorer: number;
  seconds: number;
}

export interface Report {
  rows: Row[];
  idles: Map<TopologyName, Idle>;
  /** Raw pipelined XADD samples/s per topology, one per round. */
  baselines: Map<TopologyName, number[]>;
}

const med = (xs: number[]): number => quantile(xs, 0.5);
const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
export const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

type Median = (pick: (r: Run) => number) => number;

/** One column: heading, left-aligned or not, and its cell for a row. */
type Column = [heading: string, left: boolean, cell: (row: Row, m: Median, rep: Report) => string];

const service =
  (name: 'collector' | 'alerter' | 'gateway') =>
  (_: Row, m: Median): string =>
    f(m((r) => r.serviceUs[name] ?? NaN));

/** Redis primaries' µs/sample less what they use idle (cluster bus, cron) over the run's time. */
function lessIdle(rep: Report, row: Row, r: Run): number {
  const idle = rep.idles.get(row.topology)?.redisPrimary ?? 0;
  return r.redisPrimaryUs - (idle * r.seconds * 1e6) / r.samples;
}

const COLUMNS: Column[] = [
  ['topology', true, (row) => row.topology],
  ['replicas', true, (row) => String(row.replicas)],
  ['partitions each', true, (row) => row.shares.map((s) => s.length).join('/')],
  [
    'samples/s',
    false,
    (_, m) =>
      f(
        m((r) => r.rate),
        0,
      ),
  ],
  [
    'published/s',
    false,
    (_, m) =>
      f(
        m((r) => r.publishRate),
        0,
      ),
  ],
  [
    'samples/batch',
    false,
    (_, m) =>
      f(
        m((r) => r.batch),
        0,
      ),
  ],
  ['scorer µs/sample total', false, (_, m) => f(m((r) => sum(r.scorerUs)))],
  [
    'per replica',
    false,
    (row, m) => row.shares.map((_, i) => f(m((r) => r.scorerUs[i]!))).join(' / '),
  ],
  ['collector', false, service('collector')],
  ['alerter', false, service('alerter')],
  ['gateway', false, service('gateway')],
  [
    'redis primaries',
    false,
    (row, m) =>
      f(m((r) => r.redisPrimaryUs)) +
      (row.runs[0]?.redisIngestUs === undefined
        ? ''
        : ` (${f(m((r) => r.redisIngestUs!))} + ${f(m((r) => r.redisScoringUs!))})`),
  ],
  ['less idle', false, (row, m, rep) => f(m((r) => lessIdle(rep, row, r)))],
  [
    'busiest primary',
    false,
    (row, m) => (row.topology === 'single' ? '-' : f(m((r) => r.redisBusiestUs))),
  ],
  [
    'redis replicas',
    false,
    (row, m) => (row.topology === 'single' ? '-' : f(m((r) => r.redisReplicaUs))),
  ],
  ['load', false, (_, m) => f(m((r) => r.loadUs))],
  [
    'other CPU (cores)',
    false,
    (_, m) =>
      f(
        m((r) => r.otherCores),
        2,
      ),
  ],
  [
    'scored/written',
    false,
    (row) => `${sum(row.runs.map((r) => r.scored))}/${sum(row.runs.map((r) => r.written))}`,
  ],
];

const NOTES = [
  "samples/s: from the first publish until every partition's scorer group stands at its stream's",
  'newest entry (the scorer commits its position in the same step as the scores). published/s:',
  'the load process alone. samples/batch: samples per scorer read batch (one fenced write each).',
  'scorer .. load: CPU microseconds (utime+stime, /proc/<pid>/stat) per sample over the run.',
  "redis primaries: every primary summed (a Cluster's 3 masters); less idle: less what they use",
  'with no samples flowing (the idle line) over the same time; busiest primary: the Cluster',
  "master doing the most of it; redis replicas: the Cluster's 3 replicas. other CPU: the",
  "machine's busy time not spent by these processes or the bench, in cores (other work on a",
  'shared machine). scored/written: score updates / samples published, over all runs (an update',
  'covers every sample of its strategy in one read batch: fewer updates than samples under load).',
  'With --backlog: samples/s is the scorers\' drain rate; redis primaries "total (ingest + scoring)".',
];

export function printReport(rep: Report, out: NodeJS.WritableStream = process.stdout): void {
  const all = rep.rows.map((row) =>
    COLUMNS.map(([, , cell]) => cell(row, (pick) => med(row.runs.map(pick)), rep)),
  );
  // A column no row has a figure for (no collector with --ingest direct, ...) is left out.
  const keep = COLUMNS.map((_, i) => all.some((l) => l[i] !== '-'));
  const cols = COLUMNS.filter((_, i) => keep[i]);
  const lines = all.map((l) => l.filter((_, i) => keep[i]));
  const widths = cols.map(([h], i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string =>
    `| ${cells.map((c, i) => (cols[i]![1] ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = widths.map((w, i) =>
    cols[i]![1] ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`,
  );
  out.write(`\n${fmt(cols.map(([h]) => h))}\n|${rule.join('|')}|\n`);
  for (const l of lines) out.write(`${fmt(l)}\n`);
  out.write('\n');
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  for (const [name, idle] of rep.idles) {
    out.write(
      `idle, ${name} (no samples, ${idle.seconds.toFixed(0)} s): redis primaries ` +
        `${pct(idle.redisPrimary)} of a core` +
        (name === 'cluster' ? `, replicas ${pct(idle.redisReplica)}` : '') +
        `, a scorer replica ${pct(idle.scorer)}\n`,
    );
  }
  for (const [name, list] of rep.baselines) {
    out.write(
      `baseline, ${name}: raw pipelined XADD of the same JSON into one idle stream: ` +
        `${f(med(list), 0)} samples/s (median of ${list.length})\n`,
    );
  }
  out.write(`\n${NOTES.join('\n')}\n`);
}
