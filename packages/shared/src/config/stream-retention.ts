import { z } from 'zod';
import { durationMs } from './idle-forget.js';

/**
 * Default STREAM_RETENTION: a day. Long enough that a scorer restarted or
 * rebalanced rebuilds full windows by replay for any strategy posting at
 * least every 86 s (1,000 samples, the default window), that a dashboard
 * reconnecting after a night resumes without a gap, and that an operator
 * can read yesterday's entries; short enough that Redis levels off at a
 * day of traffic (docs/operations.md gives the sizing rule).
 */
export const DEFAULT_STREAM_RETENTION = '24h';

/**
 * STREAM_RETENTION: how long the data streams (strategy samples, system
 * samples, score updates, alert commands) keep an entry, as
 * `<n><ms|s|m|h|d>`; `0` or `off` keeps them by length only (STREAM_MAXLEN,
 * keys.ts). An entry a consumer group has not yet processed is kept
 * whatever its age (stream-trimmer.ts in the scorer).
 */
export const StreamRetention = z
  .string()
  .default(DEFAULT_STREAM_RETENTION)
  .transform((s, ctx) => {
    const ms = durationMs(s);
    if (ms === undefined || (ms !== 0 && ms < 1000)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a duration of at least 1s like 30m, 6h or 2d, or 0 / off to trim by length only',
      });
      return z.NEVER;
    }
    return ms;
  });

/**
 * How often the streams are trimmed to the retention: a twentieth of it,
 * between 1 s and 1 min, so a stream holds at most 5 % (or a minute) more
 * than the retention, for one pass of a few commands per stream.
 */
export function retentionTrimIntervalMs(retentionMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(retentionMs / 20)));
}
