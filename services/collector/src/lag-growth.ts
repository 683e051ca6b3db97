/**
 * How long a consumer group's lag has kept growing, per group and
 * partition, for the `consumer_lag_growing` rule. A lag that is high but
 * steady or shrinking is a consumer catching up (or a burst being worked
 * off); a lag that keeps rising is a consumer that stopped or cannot keep
 * up. A run starts at the first reading above the previous one and lasts
 * while the lag keeps rising: it ends at a fall, at zero, or when the lag
 * has stood still for STILL_READINGS readings in a row. The figure is the
 * longest current run, in seconds (0 when nothing grows).
 *
 * Why standing still ends a run: under a steady flow a healthy consumer is
 * read at a small lag that never returns to zero at the moment of the
 * reading (the alerter's and the historian's groups trail the head by the
 * entry they have just read: lag 1-3 with `npm start`'s demo feed). Counting
 * such a plateau as growth, as the first version did, fired the warning a
 * minute after every start. A lag that stands still is a consumer keeping
 * pace; one reading level is let through, so that a consumer that stopped
 * while entries arrive every other reading still counts.
 */
export const STILL_READINGS = 2;

interface Run {
  last: number;
  since: number | undefined;
  /** Readings in a row equal to the one before, in the current run. */
  still: number;
}

export class LagGrowth {
  private readonly runs = new Map<string, Run>();

  /** One reading of one group's lag (entries) on one partition's stream. */
  observe(name: string, lag: number, now: number): void {
    const r = this.runs.get(name);
    if (!r) {
      this.runs.set(name, { last: lag, since: undefined, still: 0 });
      return;
    }
    if (lag === 0 || lag < r.last) {
      r.since = undefined;
      r.still = 0;
    } else if (lag > r.last) {
      r.since ??= now;
      r.still = 0;
    } else if (r.since !== undefined && ++r.still >= STILL_READINGS) {
      r.since = undefined;
      r.still = 0;
    }
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
