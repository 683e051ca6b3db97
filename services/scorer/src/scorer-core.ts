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
import { compareStreamIds } from './stream-id.js';
import { weightDrift } from './weight-drift.js';

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
    const state = this.state(sample.strategy);
    if (compareStreamIds(entryId, state.lastEntryId) <= 0) return null;
    this.push(state, entryId, sample);
    const values = state.metrics.valuesInto(this.scratch);
    const scores = computeScores(values);
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
