import { z } from 'zod';
import { EpochMs, FiniteNumber, StrategyId, Timestamp, Weights } from './common.js';

/**
 * A strategy sample as trading systems send it to `POST /v1/samples`
 * (public contract). Unknown fields are rejected so that a typo such as
 * `retrun` is an error instead of a silently missing return.
 */
export const StrategySampleInput = z.strictObject({
  strategy: StrategyId,
  ts: Timestamp,
  return: FiniteNumber,
  benchmarkReturn: FiniteNumber.optional(),
  equity: FiniteNumber.optional(),
  weights: Weights.optional(),
  targetWeights: Weights.optional(),
  id: z.string().min(1).max(128).optional(),
});
export type StrategySampleInput = z.input<typeof StrategySampleInput>;

/** The body of `POST /v1/samples`: one sample or a non-empty array of them. */
export const IngestBody = z.union([StrategySampleInput, z.array(StrategySampleInput).min(1)]);

/** A strategy sample as stored on the stream: ts normalised, arrival time stamped. */
export const StrategySample = z.strictObject({
  strategy: StrategyId,
  ts: EpochMs,
  return: FiniteNumber,
  benchmarkReturn: FiniteNumber.optional(),
  equity: FiniteNumber.optional(),
  weights: Weights.optional(),
  targetWeights: Weights.optional(),
  id: z.string().min(1).max(128).optional(),
  /** When the collector (or publisher) accepted it, epoch ms: the start of processing time. */
  receivedAt: EpochMs,
});
export type StrategySample = z.infer<typeof StrategySample>;
