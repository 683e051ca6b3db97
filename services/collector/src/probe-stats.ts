import type { ProbeResult, ProbeSpec } from '@quantmon/shared';
import { percentile } from './percentile.js';

/** A status is expected when listed in `expectStatus`, or is any 2xx when none is listed. */
export function statusExpected(spec: Pick<ProbeSpec, 'expectStatus'>, status: number): boolean {
  const e = spec.expectStatus;
  if (e === undefined) return status >= 200 && status < 300;
  return Array.isArray(e) ? e.includes(status) : e === status;
}

/**
 * `apiResponseTime`: the given percentile (100: the worst) of the probes'
 * latest times, failures included (a timeout counts as the time it took to
 * give up). Undefined before any probe ran.
 */
export function apiResponseTime(latest: readonly ProbeResult[], p: number): number | undefined {
  return percentile(
    latest.map((r) => r.seconds),
    p,
  );
}

/** Every probe run of the last window, for the error rate. */
export class ProbeWindow {
  private readonly runs: { at: number; ok: boolean }[] = [];
  private head = 0;

  constructor(private readonly windowMs: number) {}

  add(at: number, ok: boolean): void {
    this.runs.push({ at, ok });
  }

  /** Runs and failures in (now - window, now]. */
  counts(now: number): { runs: number; failures: number } {
    while (this.head < this.runs.length && this.runs[this.head]!.at <= now - this.windowMs) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.runs.length) {
      this.runs.splice(0, this.head);
      this.head = 0;
    }
    let failures = 0;
    for (let i = this.head; i < this.runs.length; i++) if (!this.runs[i]!.ok) failures++;
    return { runs: this.runs.length - this.head, failures };
  }
}
