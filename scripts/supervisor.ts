/**
 * The restart policy of `npm start` (scripts/start.ts), pure: it is told
 * when a child exited unexpectedly and answers whether to start it again
 * and after how long, or to give up. Restarts back off exponentially while
 * a child keeps crashing; a child that ran for `stableAfterMs` before
 * exiting starts over from the first delay; more than `maxRestarts`
 * unexpected exits of one child within `windowMs` give up (a crash loop is
 * a bug to read about, not to hide).
 */

export interface RestartPolicy {
  /** Delay before the first restart. */
  initialDelayMs: number;
  /** Each further crash in a row multiplies the delay by this... */
  factor: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** Crashes counted for giving up are those within this window. */
  windowMs: number;
  /** More unexpected exits than this within windowMs: give up. */
  maxRestarts: number;
  /** A run at least this long resets the backoff. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 250,
  factor: 2,
  maxDelayMs: 10_000,
  windowMs: 60_000,
  maxRestarts: 5,
  stableAfterMs: 30_000,
};

export type RestartDecision =
  | { action: 'restart'; delayMs: number; attempt: number; message: string }
  | { action: 'give-up'; crashes: number; message: string };

/** How a child ended: an exit code or a signal. */
export function describeExit(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code ?? '?'}`;
}

export class Supervisor {
  private readonly crashes = new Map<string, number[]>();
  private readonly streak = new Map<string, number>();
  private readonly total = new Map<string, number>();

  constructor(readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /**
   * `name` exited unexpectedly at `now` after starting at `startedAt`
   * (`how`: describeExit's words). Counts the restart it decides on.
   */
  exited(name: string, how: string, now: number, startedAt: number): RestartDecision {
    const p = this.policy;
    const recent = (this.crashes.get(name) ?? []).filter((t) => now - t < p.windowMs);
    recent.push(now);
    this.crashes.set(name, recent);
    if (recent.length > p.maxRestarts) {
      return {
        action: 'give-up',
        crashes: recent.length,
        message:
          `${name} ${how}; it has exited ${recent.length} times within ${p.windowMs / 1000} s: ` +
          `giving up and stopping the pipeline. Read its last log lines above.`,
      };
    }
    const stable = now - startedAt >= p.stableAfterMs;
    const attempt = stable ? 1 : (this.streak.get(name) ?? 0) + 1;
    this.streak.set(name, attempt);
    this.total.set(name, (this.total.get(name) ?? 0) + 1);
    const delayMs = Math.min(p.maxDelayMs, p.initialDelayMs * p.factor ** (attempt - 1));
    return {
      action: 'restart',
      delayMs,
      attempt,
      message: `${name} ${how}; restarting it in ${delayMs} ms (restart ${this.restarts(name)}, ${recent.length} exits in the last ${p.windowMs / 1000} s)`,
    };
  }

  /** Restarts decided for `name` since start. */
  restarts(name: string): number {
    return this.total.get(name) ?? 0;
  }

  /** Every child restarted at least once, with its count. */
  counts(): ReadonlyMap<string, number> {
    return this.total;
  }
}
