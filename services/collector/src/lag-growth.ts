/**
 * How long a consumer group's lag has kept growing, per group and
 * partition, for the `consumer_lag_growing` rule. A lag that is high but
 * steady or shrinking is a consumer catching up (or a burst being worked
 * off); a lag that never falls back while it rises is a consumer that
 * stopped or cannot keep up. A run starts at the first reading above the
 * previous one and lasts while no reading falls below the one before; it
 * ends at a fall or at zero. The figure is the longest current run, in
 * seconds (0 when nothing grows).
 */
export class LagGrowth {
  private readonly runs = new Map<string, { last: number; since: number | undefined }>();

  /** One reading of one group's lag (entries) on one partition's stream. */
  observe(name: string, lag: number, now: number): void {
    const r = this.runs.get(name);
    if (!r) {
      this.runs.set(name, { last: lag, since: undefined });
      return;
    }
    if (lag === 0 || lag < r.last) r.since = undefined;
    else if (lag > r.last && r.since === undefined) r.since = now;
    r.last = lag;
  }

  /** Forget groups not seen in the latest reading (deleted streams or groups). */
  keepOnly(names: ReadonlySet<string>): void {
    for (const n of this.runs.keys()) if (!names.has(n)) this.runs.delete(n);
  }

  /** The longest current run of growth, seconds. */
  longestSeconds(now: number): number {
    let worst = 0;
    for (const r of this.runs.values()) {
      if (r.since !== undefined) worst = Math.max(worst, (now - r.since) / 1000);
    }
    return worst;
  }
}
