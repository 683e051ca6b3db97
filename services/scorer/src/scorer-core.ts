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
  /** Ingest time (epoch ms) of the last sample applied: the idle clock (forget-sweep.ts). */
  lastReceivedAt: number;
  /** `ts` of the last sample applied (ingest's ordering mark is compared with it). */
  lastTs: number;
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
  /**
   * The newest entry applied live (stream order): a strategy met for the
   * first time, or again after forget(), starts past it, so a redelivery of
   * a forgotten strategy's old entry cannot seed a new window.
   */
  private floor = '0-0';

  constructor(private readonly options: MetricsOptions) {}

  get strategyCount(): number {
    return this.strategies.size;
  }

  /**
   * Strategies whose last sample was received before `cutoff` (epoch ms),
   * with the `ts` of that sample: the idle ones a sweep may forget.
   */
  idleBefore(cutoff: number): { strategy: string; lastTs: number }[] {
    const out: { strategy: string; lastTs: number }[] = [];
    for (const [strategy, s] of this.strategies) {
      if (s.lastReceivedAt < cutoff) out.push({ strategy, lastTs: s.lastTs });
    }
    return out;
  }

  /**
   * Drop a strategy's window (idle, or retired by an admin): a later sample
   * starts a new, empty one. True when it was held.
   */
  forget(strategy: string): boolean {
    return this.strategies.delete(strategy);
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
      const state = this.state(value.strategy, this.floor);
      if (compareStreamIds(id, state.lastEntryId) <= 0) {
        duplicates++;
        // A forgotten strategy's old entry: leave no empty state behind.
        if (state.metrics.count === 0) this.strategies.delete(value.strategy);
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
      this.floor = id; // entries come in stream order
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
    state.lastReceivedAt = sample.receivedAt;
    state.lastTs = sample.ts;
    const drift = weightDrift(sample.weights, sample.targetWeights);
    if (drift !== null) state.drift = drift;
  }

  private state(strategy: string, floor = '0-0'): StrategyState {
    let s = this.strategies.get(strategy);
    if (!s) {
      s = {
        metrics: new RollingMetrics(this.options),
        lastEntryId: floor,
        drift: null,
        lastReceivedAt: 0,
        lastTs: 0,
      };
      this.strategies.set(strategy, s);
    }
    return s;
  }
}
