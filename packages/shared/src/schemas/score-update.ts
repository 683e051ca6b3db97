import { z } from 'zod';
import { METRIC_NAMES, type MetricName } from '../metric-names.js';
import { Tags, WindowName } from '../catalogue/schema.js';
import { DerivedValues } from '../expr/derived.js';
import { EpochMs, FiniteNumber, StrategyId } from './common.js';

/**
 * A metric on the wire: a finite number, or null where it is undefined
 * (NaN: too few observations), or the strings "Infinity" / "-Infinity"
 * (a zero standard deviation, as empyrical returns).
 */
export const MetricValue = z.union([
  FiniteNumber,
  z.null(),
  z.literal('Infinity'),
  z.literal('-Infinity'),
]);
export type MetricValue = z.infer<typeof MetricValue>;

export const StrategyMetrics = z.strictObject(
  Object.fromEntries(METRIC_NAMES.map((n) => [n, MetricValue])) as Record<
    MetricName,
    typeof MetricValue
  >,
);
export type StrategyMetrics = z.infer<typeof StrategyMetrics>;

export const PerformanceStatus = z.enum(['EXCELLENT', 'GOOD', 'NEEDS IMPROVEMENT']);
export const RiskStatus = z.enum(['LOW', 'MODERATE', 'HIGH']);
export const StabilityStatus = z.enum(['STABLE', 'UNSTABLE']);

export const Scores = z.strictObject({
  performance: FiniteNumber,
  risk: FiniteNumber,
  stability: FiniteNumber,
});
export type Scores = z.infer<typeof Scores>;

export const ScoreStatus = z.strictObject({
  performance: PerformanceStatus,
  risk: RiskStatus,
  stability: StabilityStatus,
});
export type ScoreStatus = z.infer<typeof ScoreStatus>;

/** What a span's extremes are kept for: every metric, the three scores and weight drift. */
export const SPAN_FIELDS = [
  ...METRIC_NAMES,
  'scores.performance',
  'scores.risk',
  'scores.stability',
  'weightDrift',
] as const;
export type SpanField = (typeof SPAN_FIELDS)[number];

const Extremes = z.partialRecord(z.enum(SPAN_FIELDS), FiniteNumber);

/**
 * Several samples of one strategy applied in one read batch: the update
 * carries the state after the latest of them (its `id`, `ts`, metrics) and
 * here what the others went through, so a rule can still see a value that
 * crossed its threshold and came back between two updates.
 */
export const ScoreSpan = z.strictObject({
  /** Samples this update covers (2 or more; an update without `span` covers one). */
  samples: z.number().int().min(2),
  /** Stream entry id of the first sample covered. */
  firstEntryId: z.string(),
  /** Observations in the window after the first sample covered (the span's fewest). */
  firstCount: z.number().int().nonnegative(),
  /** Smallest and largest finite value of each field over the covered samples (absent: never finite). */
  low: Extremes,
  high: Extremes,
});
export type ScoreSpan = z.infer<typeof ScoreSpan>;

/** One extra window of a strategy (issue 15): its observations and the full metric set over them. */
export const WindowMetrics = z.strictObject({
  count: z.number().int().nonnegative(),
  metrics: StrategyMetrics,
});
export type WindowMetrics = z.infer<typeof WindowMetrics>;

/** The parameters a catalogued strategy is scored with (rates per period). */
export const ScoreParams = z.strictObject({
  periodsPerYear: FiniteNumber.pipe(z.number().positive()),
  riskFree: FiniteNumber,
  requiredReturn: FiniteNumber,
  window: z.number().int().positive(),
  windowMs: FiniteNumber.pipe(z.number().positive()).optional(),
});
export type ScoreParams = z.infer<typeof ScoreParams>;

/** The first update after the strategy's windows were rebuilt (its catalogue parameters changed). */
export const ScoreRebuilt = z.strictObject({
  at: EpochMs,
  /** Why, e.g. "catalogue 3f2a... -> 9b1c...: periodsPerYear 252 -> 98280". */
  reason: z.string().max(512),
  /** Samples replayed into the new windows. */
  samples: z.number().int().nonnegative(),
});
export type ScoreRebuilt = z.infer<typeof ScoreRebuilt>;

/**
 * Written by the scorer per strategy per read batch: the strategy's state
 * after the latest sample of the batch (one update per sample when samples
 * arrive slower than the scorer reads them), with `span` when it covers more.
 */
export const ScoreUpdate = z.strictObject({
  strategy: StrategyId,
  /** The latest sample included: its `id` (or its stream entry id when it had none) and `ts`. */
  id: z.string(),
  ts: EpochMs,
  /** Stream entry id of that sample: the scorer's per-strategy idempotency mark. */
  sampleEntryId: z.string(),
  /** Observations in the window. */
  count: z.number().int().nonnegative(),
  metrics: StrategyMetrics,
  scores: Scores,
  status: ScoreStatus,
  /** Largest |weight - targetWeight| in the latest sample that carried both; null otherwise. */
  weightDrift: FiniteNumber.nullable(),
  /** The sample's arrival and the update's computation, epoch ms (processing time). */
  receivedAt: EpochMs,
  computedAt: EpochMs,
  /** Present when the update covers several samples (conflation): their extremes. */
  span: ScoreSpan.optional(),
  /**
   * Additive (issue 15): the strategy's extra windows from the catalogue, by
   * stable name (`"60"`, `"1d"`); the top-level fields stay the main window.
   */
  windows: z.record(WindowName, WindowMetrics).optional(),
  /** Additive (issue 15): the strategy's catalogue tags (desk, manager, asset_class, ...). */
  tags: Tags.optional(),
  /** Additive (issue 15): present when the catalogue sets the strategy's parameters. */
  params: ScoreParams.optional(),
  /** Additive (issue 15): on the first update after a catalogue change rebuilt the windows. */
  rebuilt: ScoreRebuilt.optional(),
  /** Additive (issue 15): the catalogue's derived metrics by name (null: undefined for this update). */
  derived: DerivedValues.optional(),
});
export type ScoreUpdate = z.infer<typeof ScoreUpdate>;

/** Map an engine value (NaN and infinities allowed) onto the wire form. */
export function toMetricValue(x: number): MetricValue {
  if (Number.isNaN(x)) return null;
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

/** The inverse, for consumers that compute with the value. */
export function fromMetricValue(v: MetricValue): number {
  if (v === null) return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return v;
}
