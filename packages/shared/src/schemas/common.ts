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

/** ISO-8601 string or epoch ms, normalised to epoch ms. */
export const Timestamp = z.union(
  [
    z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
    z.number().int().min(0).max(8.64e15),
  ],
  { error: 'must be an ISO-8601 date-time (e.g. 2026-11-27T14:30:00Z) or epoch milliseconds' },
);

/** A map of asset to fraction of equity. */
export const Weights = z.record(z.string().min(1).max(64), FiniteNumber);
