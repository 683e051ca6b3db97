import {
  METRIC_NAMES,
  SPAN_FIELDS,
  type MetricValues,
  type ScoreSpan,
  type Scores,
  type SpanField,
} from '@quantmon/shared';

const M = METRIC_NAMES.length;
const F = SPAN_FIELDS.length;

/**
 * The extremes of one strategy's samples within a read batch, folded in as
 * they are applied: the batch writes one update per strategy (the latest
 * state) instead of one per sample, and the span lets the alerter still
 * judge the worst value each metric reached in between. Only finite values
 * count; a field never finite is left out.
 */
export class SpanExtremes {
  readonly low = new Float64Array(F).fill(Infinity);
  readonly high = new Float64Array(F).fill(-Infinity);
  samples = 0;

  constructor(
    readonly firstEntryId: string,
    readonly firstCount: number,
  ) {}

  /** One sample's state: its metrics, scores and weight drift. */
  fold(values: MetricValues, scores: Scores, drift: number | null): void {
    this.samples++;
    for (let i = 0; i < M; i++) this.put(i, values[METRIC_NAMES[i]!]);
    this.put(M, scores.performance);
    this.put(M + 1, scores.risk);
    this.put(M + 2, scores.stability);
    if (drift !== null) this.put(M + 3, drift);
  }

  private put(i: number, x: number): void {
    if (!Number.isFinite(x)) return;
    if (x < this.low[i]!) this.low[i] = x;
    if (x > this.high[i]!) this.high[i] = x;
  }

  toSpan(): ScoreSpan {
    const low: Partial<Record<SpanField, number>> = {};
    const high: Partial<Record<SpanField, number>> = {};
    for (let i = 0; i < F; i++) {
      if (this.low[i]! > this.high[i]!) continue; // never finite
      low[SPAN_FIELDS[i]!] = this.low[i]!;
      high[SPAN_FIELDS[i]!] = this.high[i]!;
    }
    return {
      samples: this.samples,
      firstEntryId: this.firstEntryId,
      firstCount: this.firstCount,
      low,
      high,
    };
  }
}
