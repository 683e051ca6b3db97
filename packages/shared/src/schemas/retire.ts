import { z } from 'zod';
import { EpochMs, StrategyId } from './common.js';

/**
 * A strategy retirement waiting in a partition's retire hash (keys.ts
 * `retire(owner)`, field = strategy id). The gateway writes it for the
 * scorer (`DELETE /api/strategies/{id}`); the scorer, once it has dropped
 * the windows and latest state, hands it on to the alerter with `scoresId`
 * (the scores stream's last entry then): the alerter applies it only once
 * it has read that far, so no score update of the old windows reaches it
 * after it has closed the strategy's incidents.
 */
export const RetireRequest = z.strictObject({
  /** Who asked (the gateway token's name, or "anonymous"). */
  by: z.string().min(1).max(128),
  at: EpochMs,
  scoresId: z
    .string()
    .regex(/^\d+-\d+$/)
    .optional(),
});
export type RetireRequest = z.infer<typeof RetireRequest>;

/**
 * The rule name of the alerts-stream event recording a retirement (state
 * `resolved`, level info, opens no incident): history keeps it, and every
 * gateway drops the strategy when it reads it. Reserved: no rule may take it.
 */
export const RETIRED_RULE = 'strategy_retired';

/**
 * `DELETE /api/strategies/{id}` answer: 200 once the partition's scorer and
 * alerter have both applied the retirement, 202 when the wait ran out
 * first (it is applied when they next run: the request stays in Redis).
 */
export const RetireResponse = z.strictObject({
  strategy: StrategyId,
  partition: z.number().int().nonnegative(),
  by: z.string().min(1),
  at: EpochMs,
  /** Whether the pipeline held state for it when asked: false for an unknown or already retired id. */
  known: z.boolean(),
  applied: z.strictObject({ scorer: z.boolean(), alerter: z.boolean() }),
});
export type RetireResponse = z.infer<typeof RetireResponse>;
