/**
 * POST-to-frame latency for bench:pipeline. A score frame shows a
 * strategy's state up to the sample whose id it carries, so a sample is
 * on the dashboard at the first frame of its strategy whose sequence is at
 * or past the sample's (frames may conflate several samples into one).
 */

/** The arrival record's width: strategy, sequence, arrival, receivedAt, computedAt, written. */
export const ARRIVAL_FIELDS = 6;

export interface Latencies {
  /** Per sample, POST to the first frame that includes it, sorted. */
  ms: number[];
  missing: number;
  /**
   * For samples shown by their own frame (not conflated into a later one),
   * sorted: POST to accepted by the collector, accepted to computed by the
   * scorer, computed to written to the scores stream, written to arrival.
   */
  stages: { ingest: number[]; score: number[]; write: number[]; deliver: number[] };
  /**
   * Per second of the phase (by send time): that second's samples' p50, p99
   * and max. Spikes in a few seconds point at a stall (a pause, a sweep);
   * the same high p99 every second points at a queue that never empties.
   */
  perSecond: { p50: number; p99: number; max: number; n: number }[];
  /** Each second's latencies (by send time), sorted: perSecond's source, for p99s over chosen seconds. */
  bySecond: number[][];
  /** Epoch ms of the phase's first POST: second 0 of perSecond and bySecond starts here. */
  firstSentAt: number;
  /**
   * For every sample, sorted: POST to the scorer's `computedAt` of the frame
   * that showed it (its wait for a read included: the read beat), and from
   * there to the frame's arrival (write, delivery). Tells the beat's share
   * of the tail from what follows the read.
   */
  split: { toScored: number[]; fromScored: number[] };
  /**
   * The slowest 1 % (POST to frame at or above the p99), each sorted. When
   * the sample was sent, from the computation of its strategy's update
   * before the one that showed it: negative when it was sent before that
   * update and still missed it (not yet in the stream at the read), so it
   * waited a whole beat more. Then POST to scored, scored to written, and
   * written to the frame's arrival. A tail of missed reads with quick stages
   * points at the beat; one of slow stages at what follows the read.
   */
  slowest: {
    n: number;
    sincePrevious: number[];
    toScored: number[];
    write: number[];
    deliver: number[];
  };
}

/** sends: flat [strategy, sequence, epoch ms] triples; arrivals: ARRIVAL_FIELDS-wide records. */
export function latencies(sends: number[], arrivals: number[]): Latencies {
  // Per strategy: arrivals in order (a strategy's frames come in stream order).
  const byStrategy = new Map<number, { seq: number[]; at: number[]; rec: number[] }>();
  for (let i = 0; i < arrivals.length; i += ARRIVAL_FIELDS) {
    const s = arrivals[i]!;
    let list = byStrategy.get(s);
    if (!list) byStrategy.set(s, (list = { seq: [], at: [], rec: [] }));
    list.seq.push(arrivals[i + 1]!);
    list.at.push(arrivals[i + 2]!);
    list.rec.push(i);
  }
  const stages: Latencies['stages'] = { ingest: [], score: [], write: [], deliver: [] };
  const split: Latencies['split'] = { toScored: [], fromScored: [] };
  const ms: number[] = [];
  // Per shown sample, in send order: [latency, since previous update, to scored, write, deliver].
  const each: number[] = [];
  const bySecond: number[][] = [];
  const first = sends[2] ?? 0;
  let missing = 0;
  for (let i = 0; i < sends.length; i += 3) {
    const list = byStrategy.get(sends[i]!);
    const q = sends[i + 1]!;
    // First arrival with seq >= q (binary search: seqs rise with time).
    let lo = 0;
    let hi = list ? list.seq.length : 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list!.seq[mid]! >= q) hi = mid;
      else lo = mid + 1;
    }
    if (!list || lo >= list.seq.length) {
      missing++;
      continue;
    }
    const sent = sends[i + 2]!;
    ms.push(list.at[lo]! - sent);
    (bySecond[Math.floor((sent - first) / 1000)] ??= []).push(list.at[lo]! - sent);
    const r = list.rec[lo]!;
    const scoredAt = arrivals[r + 4]!;
    split.toScored.push(scoredAt - sent);
    split.fromScored.push(list.at[lo]! - scoredAt);
    const previous = lo > 0 ? arrivals[list.rec[lo - 1]! + 4]! : NaN;
    const writtenAt = arrivals[r + 5]!;
    each.push(list.at[lo]! - sent, sent - previous, scoredAt - sent, writtenAt - scoredAt);
    each.push(list.at[lo]! - writtenAt);
    if (list.seq[lo] !== q) continue;
    const [at, received, computed, written] = arrivals.slice(r + 2, r + 6) as [
      number,
      number,
      number,
      number,
    ];
    stages.ingest.push(received - sent);
    stages.score.push(computed - received);
    stages.write.push(written - computed);
    stages.deliver.push(at - written);
  }
  const up = (x: number, y: number): number => x - y;
  ms.sort(up);
  for (const k of Object.keys(stages) as (keyof typeof stages)[]) stages[k].sort(up);
  split.toScored.sort(up);
  split.fromScored.sort(up);
  const seconds = Array.from(bySecond, (xs = []) => xs.sort(up));
  const perSecond = seconds.map((xs) => ({
    p50: percentile(xs, 0.5),
    p99: percentile(xs, 0.99),
    max: percentile(xs, 1),
    n: xs.length,
  }));
  const slowest = slowestOf(each, percentile(ms, 0.99));
  return { ms, missing, stages, perSecond, bySecond: seconds, firstSentAt: first, split, slowest };
}

/** The breakdown of the samples at or above `p99` (Latencies.slowest); `each` is 5 numbers a sample. */
function slowestOf(each: readonly number[], p99: number): Latencies['slowest'] {
  const out: Latencies['slowest'] = {
    n: 0,
    sincePrevious: [],
    toScored: [],
    write: [],
    deliver: [],
  };
  for (let i = 0; i < each.length; i += 5) {
    if (!(each[i]! >= p99)) continue;
    out.n++;
    // A strategy's first frame has no update before it: nothing to measure from.
    if (!Number.isNaN(each[i + 1])) out.sincePrevious.push(each[i + 1]!);
    out.toScored.push(each[i + 2]!);
    out.write.push(each[i + 3]!);
    out.deliver.push(each[i + 4]!);
  }
  const up = (x: number, y: number): number => x - y;
  for (const xs of [out.sincePrevious, out.toScored, out.write, out.deliver]) xs.sort(up);
  return out;
}

/** The p99 over the seconds not in `skip` (e.g. those an AOF rewrite touched), and how many samples. */
export function p99Outside(
  bySecond: readonly (readonly number[])[],
  skip: ReadonlySet<number>,
): { p99: number; n: number } {
  const kept = bySecond.filter((_, k) => !skip.has(k)).flat();
  kept.sort((x, y) => x - y);
  return { p99: percentile(kept, 0.99), n: kept.length };
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
