/**
 * The throughput goals (docs/performance.md, "Against the goals of the
 * throughput issue"), judged on one bench:pipeline run's figures, so that
 * the end of each run says which it met. "Three runs in a row" is for the
 * reader to see over runs: one run can only say its own.
 */

export const GOALS = {
  /** Scored samples/s over the pipelined XADD ceiling of the same Redis. */
  ratio: 0.3,
  /** CPU µs per sample over every process at the maximum. */
  usPerSample: 50,
  /** p99 POST to score frame at half the maximum rate, ms. */
  halfLoadP99Ms: 50,
  /** Single-sample posts (batch of 1), samples/s. */
  singlePerSecond: 36_000,
} as const;

/** What a run measured; a phase it skipped is undefined. */
export interface RunFigures {
  ratio: number | undefined;
  usPerSample: number | undefined;
  /** undefined: `--half-rate` set the rate, so the phase was not at half the maximum. */
  halfLoadP99Ms: number | undefined;
  /**
   * When an AOF rewrite ran in the half load: the p99 of the seconds it did
   * not touch, and how many. Shown beside the phase's p99, which alone is
   * judged: rewrites recur under a sustained flow.
   */
  halfLoadOutsideRewrite?: { p99Ms: number; seconds: number } | undefined;
  /** Samples of the half load no dashboard frame showed. */
  neverShown: number;
  /** Pipelined HTTP posts of one sample each, samples/s (the deepest HTTP phase). */
  postsPerSecond: number | undefined;
  /** The best ingest-socket phase, samples/s. */
  socketPerSecond: number | undefined;
  dashboardsOpen: number;
  dashboardsConnected: number;
}

export interface GoalVerdict {
  goal: string;
  figure: string;
  /** undefined: the run skipped the phase that measures it. */
  met: boolean | undefined;
}

const f0 = (x: number): string => Math.round(x).toLocaleString('en-US');

/** One verdict per goal, in the order. */
export function judgeGoals(f: RunFigures): GoalVerdict[] {
  const atLeast = (x: number | undefined, min: number): GoalVerdict['met'] =>
    x === undefined ? undefined : x >= min;
  const rate = (x: number | undefined): string =>
    x === undefined ? 'phase skipped' : `${f0(x)}/s`;
  return [
    {
      goal: `scored / ceiling at least ${GOALS.ratio.toFixed(2)}`,
      figure: f.ratio === undefined ? 'maximum skipped' : f.ratio.toFixed(3),
      met: atLeast(f.ratio, GOALS.ratio),
    },
    {
      goal: `CPU per sample at most ${GOALS.usPerSample} µs`,
      figure: f.usPerSample === undefined ? 'maximum skipped' : `${f.usPerSample.toFixed(1)} µs`,
      met: f.usPerSample === undefined ? undefined : f.usPerSample <= GOALS.usPerSample,
    },
    {
      goal: `half-load p99 under ${GOALS.halfLoadP99Ms} ms`,
      figure:
        f.halfLoadP99Ms === undefined
          ? 'rate set by --half-rate'
          : `${f.halfLoadP99Ms.toFixed(1)} ms` +
            (f.halfLoadOutsideRewrite
              ? ` (${f.halfLoadOutsideRewrite.p99Ms.toFixed(1)} in the ${f.halfLoadOutsideRewrite.seconds} s without an AOF rewrite)`
              : ''),
      met: f.halfLoadP99Ms === undefined ? undefined : f.halfLoadP99Ms < GOALS.halfLoadP99Ms,
    },
    {
      goal: `single-sample HTTP posts at least ${f0(GOALS.singlePerSecond)}/s`,
      figure: rate(f.postsPerSecond),
      met: atLeast(f.postsPerSecond, GOALS.singlePerSecond),
    },
    {
      // The other way to send one sample at a time (docs/collector.md): judged apart, not instead.
      goal: `single samples over the ingest socket at least ${f0(GOALS.singlePerSecond)}/s`,
      figure: rate(f.socketPerSecond),
      met: atLeast(f.socketPerSecond, GOALS.singlePerSecond),
    },
    {
      goal: 'every dashboard open, every sample shown',
      figure: `${f.dashboardsOpen}/${f.dashboardsConnected} open, ${f0(f.neverShown)} never shown`,
      met:
        f.dashboardsConnected > 0 &&
        f.dashboardsOpen === f.dashboardsConnected &&
        f.neverShown === 0,
    },
  ];
}

/** The verdicts as the run's last lines. */
export function describeGoals(verdicts: readonly GoalVerdict[]): string {
  const width = Math.max(...verdicts.map((v) => v.goal.length));
  const figWidth = Math.max(...verdicts.map((v) => v.figure.length));
  const word = (m: boolean | undefined): string =>
    m === undefined ? 'not measured' : m ? 'met' : 'NOT MET';
  return [
    'against the throughput goals (one run; the ratio is to hold three runs in a row):',
    ...verdicts.map(
      (v) => `  ${v.goal.padEnd(width)}  ${v.figure.padEnd(figWidth)}  ${word(v.met)}`,
    ),
  ].join('\n');
}
