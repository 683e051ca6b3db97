/**
 * When Redis's AOF rewrites ran during a phase of bench:pipeline. A
 * rewrite forks Redis (the parent stops for the fork: 20-33 ms at ~1 GB on
 * the 2026-12-04 hosts) and its child then takes a core for seconds while
 * it writes the dataset. On two cores that is the worst stretch of a
 * phase, and on a fast host the first rewrite (at the 1 GB minimum) falls
 * in the half load in most runs: the maximum before it writes that much.
 * The phase's p99 keeps those seconds (a rewrite is a real, recurring cost
 * under a sustained flow); knowing which seconds they were tells a reader
 * what the p99 was between rewrites, and so what the rewrite cost.
 */
import type { Redis } from 'ioredis';

/** One rewrite, epoch ms; `to` undefined: still running when the watch stopped. */
export interface RewriteSpan {
  from: number;
  to: number | undefined;
}

export interface RewriteReading {
  at: number;
  inProgress: boolean;
  /** INFO persistence `aof_rewrites`: rewrites started since Redis started. */
  started: number;
}

/** `aof_rewrite_in_progress` and `aof_rewrites` from INFO persistence. */
export function readRewriteInfo(info: string, at: number): RewriteReading {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
    if (!m) throw new Error(`INFO persistence has no ${name} (Redis 7 or later reports it)`);
    return Number(m[1]);
  };
  return { at, inProgress: field('aof_rewrite_in_progress') === 1, started: field('aof_rewrites') };
}

/**
 * The rewrites a series of readings saw. A rewrite that started and ended
 * between two readings (shorter than the poll) is placed between them.
 */
export function rewriteSpans(readings: readonly RewriteReading[]): RewriteSpan[] {
  const spans: RewriteSpan[] = [];
  let open: RewriteSpan | undefined;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    const prev = readings[i - 1];
    const newOnes = prev ? r.started - prev.started : 0;
    if (open && (!r.inProgress || newOnes > 0)) {
      open.to = r.at;
      open = undefined;
    }
    // Rewrites that came and went unseen between the readings.
    const unseen = newOnes - (r.inProgress && newOnes > 0 ? 1 : 0);
    for (let k = 0; k < unseen; k++) spans.push({ from: prev!.at, to: r.at });
    if (r.inProgress && !open) {
      open = { from: newOnes > 0 ? prev!.at : r.at, to: undefined };
      spans.push(open);
    }
  }
  return spans;
}

/**
 * Which of a phase's `seconds` (by send time, 0-based from `phaseFrom`) a
 * rewrite touched: from the second it started in to the one after it
 * ended, since samples sent just before a fork wait through it and the
 * backlog after a rewrite takes a while to drain. A rewrite still running
 * touches every second from its start on.
 */
export function secondsTouched(
  spans: readonly RewriteSpan[],
  phaseFrom: number,
  seconds: number,
): Set<number> {
  const second = (t: number): number => Math.floor((t - phaseFrom) / 1000);
  const touched = new Set<number>();
  for (const s of spans) {
    const first = Math.max(0, second(s.from));
    const end = Math.min(seconds - 1, s.to === undefined ? Infinity : second(s.to) + 1);
    for (let k = first; k <= end; k++) touched.add(k);
  }
  return touched;
}

/** Poll INFO persistence every `everyMs` until stopped; the rewrites it saw. */
export function watchAofRewrites(
  redis: Redis,
  everyMs = 200,
): { stop: () => Promise<RewriteSpan[]> } {
  const readings: RewriteReading[] = [];
  let failure: unknown;
  const read = async (): Promise<void> => {
    try {
      readings.push(readRewriteInfo(await redis.info('persistence'), Date.now()));
    } catch (err) {
      failure ??= err;
    }
  };
  let pending = read();
  const timer = setInterval(() => {
    pending = pending.then(read);
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await pending;
      await read();
      if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
      return rewriteSpans(readings);
    },
  };
}

/** "from 6.4 s to 9.8 s" per rewrite, in seconds from `origin` (the phase's first POST). */
export function describeSpans(spans: readonly RewriteSpan[], origin: number): string {
  const s = (t: number): string => ((t - origin) / 1000).toFixed(1);
  return spans
    .map((x) => `from ${s(x.from)} s to ${x.to === undefined ? 'past the end' : `${s(x.to)} s`}`)
    .join(', ');
}
