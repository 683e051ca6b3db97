/**
 * Sums of increments over a sliding window. Cumulative counters read from
 * Redis (entries added to a stream, entries read by a group, failed jobs)
 * are turned into increments per reading; a counter that goes back (Redis
 * restarted, a set trimmed) contributes nothing for that step instead of a
 * negative amount.
 */
export class SlidingCounter {
  private readonly steps: { at: number; n: number }[] = [];
  private prev: number | undefined;

  constructor(private readonly windowMs: number) {}

  /** Record the counter's cumulative value at `at` (undefined: not readable now). */
  observe(at: number, cumulative: number | undefined): void {
    if (cumulative === undefined) return;
    const prev = this.prev;
    this.prev = cumulative;
    if (prev === undefined) return; // the first reading is the baseline
    const n = cumulative - prev;
    if (n > 0) this.steps.push({ at, n });
  }

  /** Increments in (now - window, now]. */
  sum(now: number): number {
    while (this.steps.length > 0 && this.steps[0]!.at <= now - this.windowMs) this.steps.shift();
    let s = 0;
    for (const x of this.steps) s += x.n;
    return s;
  }
}

/**
 * Error rate in percent: errors / operations over the window, capped at
 * 100 % (a failure that never became an operation, such as an ingest 503,
 * can make errors exceed operations). Undefined when nothing happened.
 */
export function errorRatePercent(errors: number, operations: number): number | undefined {
  if (errors <= 0 && operations <= 0) return undefined;
  return Math.min(100, (100 * errors) / Math.max(errors, operations));
}
