import {
  METRIC_NAMES,
  toMetricValue,
  type ScoreUpdate,
  type StrategyMetrics,
  type MetricValues,
  type StrategySample,
} from '@quantmon/shared';
import { RollingMetrics, blankMetricValues, type MetricsOptions } from './metrics/index.js';
import { computeScores, scoreStatus } from './scores.js';
import { SpanExtremes } from './span.js';
import { compareStreamIds } from './stream-id.js';
import { weightDrift } from './weight-drift.js';

/** One strategy's share of a batch being applied. */
interface Pending {
  state: StrategyState;
  entryId: string;
  sample: StrategySample;
  firstEntryId: string;
  firstCount: number;
  /** Made at the strategy's second sample in the batch. */
  span?: SpanExtremes;
}

export interface BatchResult {
  /** One per strategy, ordered by each strategy's latest sample in the batch. */
  updates: ScoreUpdate[];
  /** Entries already applied before (redeliveries), skipped. */
  duplicates: number;
}

interface StrategyState {
  metrics: RollingMetrics;
  /** Stream id of the last sample applied: anything at or before it is a redelivery. */
  lastEntryId: string;
  /** Weight drift from the last sample that carried weights and targets. */
  drift: number | null;
}

/**
 * The scorer's pure core: one rolling window per strategy, fed in stream
 * order. Applying an entry twice is a no-op, which makes the consumer
 * group's at-least-once delivery effectively-once.
 */
export class ScorerCore {
  private readonly strategies = new Map<string, StrategyState>();
  /** valuesInto() target, shared: apply() reads it out before returning. */
  private readonly scratch: MetricValues = blankMetricValues();

  constructor(private readonly options: MetricsOptions) {}

  get strategyCount(): number {
    return this.strategies.size;
  }

  /** Feed a sample during the start-up replay: updates the window, produces nothing. */
  restore(entryId: string, sample: StrategySample): void {
    this.push(this.state(sample.strategy), entryId, sample);
  }

  /** Apply a live sample; null when it was already applied (a redelivery). */
  apply(entryId: string, sample: StrategySample, now: number): ScoreUpdate | null {
    return this.applyBatch([{ id: entryId, value: sample }], now).updates[0] ?? null;
  }

  /**
   * Apply a read batch in stream order and return one update per strategy:
   * its state after its latest sample, with the span of extremes when the
   * batch held several of its samples (conflation: the write, the alerter
   * and the gateway then handle one update per strategy per batch, not
   * one per sample). Every sample still enters its window exactly once.
   */
  applyBatch(entries: readonly { id: string; value: StrategySample }[], now: number): BatchResult {
    const pending = new Map<string, Pending>();
    let duplicates = 0;
    for (const { id, value } of entries) {
      const state = this.state(value.strategy);
      if (compareStreamIds(id, state.lastEntryId) <= 0) {
        duplicates++;
        continue;
      }
      const p = pending.get(value.strategy);
      if (p) {
        // Fold the state the previous sample left before this one moves it on:
        // computed only for strategies with several samples in the batch.
        p.span ??= new SpanExtremes(p.firstEntryId, p.firstCount);
        const values = state.metrics.valuesInto(this.scratch);
        p.span.fold(values, computeScores(values), state.drift);
        pending.delete(value.strategy); // re-inserted last: ordered by latest sample
      }
      this.push(state, id, value);
      if (p) {
        // One record per strategy per batch, moved on in place (this runs per sample).
        p.entryId = id;
        p.sample = value;
        pending.set(value.strategy, p);
      } else {
        pending.set(value.strategy, {
          state,
          entryId: id,
          sample: value,
          firstEntryId: id,
          firstCount: state.metrics.count,
        });
      }
    }
    const updates: ScoreUpdate[] = [];
    for (const p of pending.values()) updates.push(this.updateOf(p, now));
    return { updates, duplicates };
  }

  private updateOf(p: Pending, now: number): ScoreUpdate {
    const { state, sample, entryId } = p;
    const values = state.metrics.valuesInto(this.scratch);
    const scores = computeScores(values);
    p.span?.fold(values, scores, state.drift);
    const metrics = Object.fromEntries(
      METRIC_NAMES.map((n) => [n, toMetricValue(values[n])]),
    ) as StrategyMetrics;
    return {
      strategy: sample.strategy,
      id: sample.id ?? entryId,
      ts: sample.ts,
      sampleEntryId: entryId,
      count: state.metrics.count,
      metrics,
      scores,
      status: scoreStatus(scores),
      weightDrift: state.drift,
      receivedAt: sample.receivedAt,
      computedAt: now,
      ...(p.span ? { span: p.span.toSpan() } : {}),
    };
  }

  private push(state: StrategyState, entryId: string, sample: StrategySample): void {
    state.metrics.push(sample.return, sample.benchmarkReturn ?? null, sample.ts);
    state.lastEntryId = entryId;
    const drift = weightDrift(sample.weights, sample.targetWeights);
    if (drift !== null) state.drift = drift;
  }

  private state(strategy: string): StrategyState {
    let s = this.strategies.get(strategy);
    if (!s) {
      s = { metrics: new RollingMetrics(this.options), lastEntryId: '0-0', drift: null };
      this.strategies.set(strategy, s);
    }
    return s;
  }
}
