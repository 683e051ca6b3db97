import {
  METRIC_NAMES,
  SPAN_FIELDS,
  type MetricValues,
  type ScoreSpan,
  type Scores,
  type SpanField,
} from '@quantmon/shared';
import { metricRow } from './metric-fields.js';

const M = METRIC_NAMES.length;
const F = SPAN_FIELDS.length;
/** One sample's fields in SPAN_FIELDS order, reused by every fold (one thread). */
const ROW = new Float64Array(F);

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
    const row = ROW;
    metricRow(values, row);
    row[M] = scores.performance;
    row[M + 1] = scores.risk;
    row[M + 2] = scores.stability;
    row[M + 3] = drift ?? Number.NaN;
    const { low, high } = this;
    // Only finite values count: NaN fails both tests, and an infinity
    // only ever moves the bound on its own side, which the second test
    // excludes.
    for (let i = 0; i < F; i++) {
      const x = row[i]!;
      if (x < low[i]! && x !== -Infinity) low[i] = x;
      if (x > high[i]! && x !== Infinity) high[i] = x;
    }
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
