/**
 * Start-up grace bookkeeping: per subject and grace length, the entry time
 * its current run of reports began. Pure, in memory.
 */
export class StartupGrace {
  private readonly runs = new Map<string, Map<number, number>>();

  /**
   * Whether a host is within a rule's start-up grace, by entry time: it first
   * reported (to any alerter: last-seen times are kept in Redis) less than
   * `graceMs` ago, or came back less than `graceMs` ago from a silence at
   * least that long (a collector restart). A host this core meets with a
   * recent last-seen time (an alerter restart) has long been running.
   */
  inGrace(subject: string, prev: number | undefined, t: number, graceMs: number): boolean {
    let byGrace = this.runs.get(subject);
    if (!byGrace) this.runs.set(subject, (byGrace = new Map()));
    const start =
      prev === undefined || t - prev >= graceMs ? t : (byGrace.get(graceMs) ?? -Infinity);
    byGrace.set(graceMs, start);
    return t - start < graceMs;
  }

  /** Drop a forgotten subject's runs. */
  forget(subject: string): void {
    this.runs.delete(subject);
  }
}
