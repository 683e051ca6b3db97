import { z } from 'zod';

/** Finite numbers only: JSON's 1e999 parses as Infinity, and NaN must never travel. */
export const FiniteNumber = z
  .number()
  .refine(Number.isFinite, { message: 'must be a finite number' });

/** Identifiers that are safe inside Redis keys, BullMQ job ids and topic names. */
export const StrategyId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -');
export type StrategyId = z.infer<typeof StrategyId>;

export const HostId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . -');

/** Epoch milliseconds. */
export const EpochMs = z.number().int().nonnegative();

/**
 * The last epoch millisecond a sample's `ts` may hold: the end of the year
 * 9999, as far as an ISO-8601 date-time reaches. A clock read in
 * microseconds or nanoseconds (now ~1.8e15 and ~1.8e18) lands far past it
 * and is refused, instead of being stored as a date tens of thousands of
 * years ahead, after which every real sample of the strategy would be
 * older than its latest and skipped as out of order.
 */
export const MAX_SAMPLE_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const TS_TOO_BIG =
  `must be epoch milliseconds, at most ${MAX_SAMPLE_TS} (the end of 9999): ` +
  'this looks like a clock read in microseconds or nanoseconds';

/** ISO-8601 string or epoch ms, normalised to epoch ms. */
export const Timestamp = z.union(
  [
    z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
    z
      .number()
      // Past 2^53 (nanoseconds) the integer check fails as too big as well.
      .int({ error: (iss) => (iss.code === 'too_big' ? TS_TOO_BIG : undefined) })
      .min(0)
      .max(MAX_SAMPLE_TS, { error: TS_TOO_BIG }),
  ],
  { error: 'must be an ISO-8601 date-time (e.g. 2026-11-27T14:30:00Z) or epoch milliseconds' },
);

/** A map of asset to fraction of equity. */
export const Weights = z.record(z.string().min(1).max(64), FiniteNumber);
