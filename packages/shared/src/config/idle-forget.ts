import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A duration variable's value in ms: `<n><ms|s|m|h|d>` (`7d`, `36h`, `30s`),
 * `0` or `off` as 0; undefined when it is neither. Shared by every duration
 * variable (IDLE_FORGET_AFTER, STREAM_RETENTION) so they read alike.
 */
export function durationMs(raw: string): number | undefined {
  const v = raw.trim();
  if (v === '0' || v === 'off') return 0;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  // `0s` is not a way to say off: a unit promises a duration.
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** Default IDLE_FORGET_AFTER: a strategy or host silent a week is forgotten. */
export const DEFAULT_IDLE_FORGET_AFTER = '7d';

/**
 * IDLE_FORGET_AFTER: how long a strategy or host may stay silent before
 * every service (and Redis) forgets it, as `<n><ms|s|m|h|d>` (`7d`, `36h`,
 * `30s`); `0` or `off` never forgets. At least 1 s: the soak bench runs
 * with seconds, production with days.
 */
export const IdleForgetAfter = z
  .string()
  .default(DEFAULT_IDLE_FORGET_AFTER)
  .transform((s, ctx) => {
    const ms = durationMs(s);
    if (ms === undefined || (ms !== 0 && ms < 1000)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a duration of at least 1s like 30s, 12h or 7d, or 0 / off to never forget',
      });
      return z.NEVER;
    }
    return ms;
  });

/**
 * How often a service sweeps for idle state: a tenth of the limit, between
 * 1 s and 1 min, so a subject is forgotten at most 10 % (or a minute) late.
 */
export function idleSweepIntervalMs(afterMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(afterMs / 10)));
}
