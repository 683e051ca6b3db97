import {
  emptyCatalogue,
  forgetResolved,
  resolveStrategy,
  withDerived,
  type Catalogue,
  type ScoreRebuilt,
  type ScoreUpdate,
  type Scores,
  type MetricValues,
  type ResolvedStrategy,
  type StrategySample,
} from '@quantmon/shared';
import { RollingMetrics, blankMetricValues, type MetricsOptions } from './metrics/index.js';
import { computeScores, computeScoresInto, scoreStatus } from './scores.js';
import { wireMetrics } from './metric-fields.js';
import { SpanExtremes } from './span.js';
import { entryMs, HeldEntries } from './held-entries.js';
import { compareStreamIds } from './stream-id.js';
import {
  describeChange,
  StrategyWindows,
  windowNeeds,
  type WindowNeed,
} from './strategy-windows.js';
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
  /** The index in the batch of the strategy's latest sample: the updates' order. */
  last: number;
}

export interface BatchResult {
  /** One per strategy, ordered by each strategy's latest sample in the batch. */
  updates: ScoreUpdate[];
  /** Entries already applied before (redeliveries), skipped. */
  duplicates: number;
}

interface StrategyState {
  /** The main window (windows.main), whose metrics are the update's top-level fields. */
  metrics: RollingMetrics;
  /** Every window of the strategy, with its catalogue parameters. */
  windows: StrategyWindows;
  /** Set by a rebuild, carried (then cleared) by the strategy's next update. */
  rebuilt?: ScoreRebuilt | undefined;
  /** Stream id of the last sample applied: anything at or before it is a redelivery. */
  lastEntryId: string;
  /** Weight drift from the last sample that carried weights and targets. */
  drift: number | null;
  /** Ingest time (epoch ms) of the last sample applied: the idle clock (forget-sweep.ts). */
  lastReceivedAt: number;
  /** `ts` of the last sample applied (ingest's ordering mark is compared with it). */
  lastTs: number;
  /** Stream times of the samples the windows hold: what a replay must find (time retention). */
  held: HeldEntries;
  /**
   * Between setCatalogue emptying the windows and the rebuild's replay
   * (markRebuilt): the oldest sample they held, which the replay reads back
   * to, so time retention must not trim it in that gap.
   */
  rebuildFloorMs?: number | undefined;
}

/** A ring for the stream times of the strategy's longest window. */
function heldFor(resolved: ResolvedStrategy): HeldEntries {
  return new HeldEntries(Math.max(...windowNeeds(resolved).map((n) => n.count)));
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
  /** The scores of a sample folded into a span (kept by none: one object serves all). */
  private readonly scratchScores: Scores = { performance: 0, risk: 0, stability: 0 };
  /**
   * The newest entry applied live (stream order): a strategy met for the
   * first time, or again after forget(), starts past it, so a redelivery of
   * a forgotten strategy's old entry cannot seed a new window.
   */
  private floor = '0-0';

  private catalogue: Catalogue;

  /**
   * `options` are the defaults (the scorer's environment) and the VaR
   * cutoff; the catalogue sets parameters and windows per strategy.
   */
  constructor(
    private readonly options: MetricsOptions,
    catalogue?: Catalogue,
  ) {
    this.catalogue = catalogue ?? emptyCatalogue(options);
  }

  /**
   * Take a new catalogue. Strategies whose parameters or windows changed
   * get fresh, empty windows (their last entry id kept, so redeliveries
   * stay duplicates) and are returned: the caller replays their samples
   * (restore) and calls markRebuilt. Tags and names change in place.
   */
  setCatalogue(next: Catalogue): { strategy: string; reason: string }[] {
    const previous = this.catalogue;
    this.catalogue = next;
    const changed: { strategy: string; reason: string }[] = [];
    for (const [strategy, state] of this.strategies) {
      const before = state.windows.resolved;
      const after = resolveStrategy(next, strategy);
      if (after.paramsKey === before.paramsKey) {
        state.windows.resolved = after; // tags or name only: the windows stay
        continue;
      }
      state.windows = new StrategyWindows(after, this.options.varCutoff);
      state.metrics = state.windows.main;
      state.rebuildFloorMs ??= state.held.oldest();
      state.held = heldFor(after);
      const what = describeChange(before, after);
      changed.push({
        strategy,
        reason: `catalogue ${previous.version} -> ${next.version}: ${what}`,
      });
    }
    return changed;
  }

  /** After a rebuild's replay: the strategy's next update says so. */
  markRebuilt(strategy: string, reason: string, samples: number, at: number): void {
    const s = this.strategies.get(strategy);
    if (!s) return;
    s.rebuilt = { at, reason: reason.slice(0, 512), samples };
    s.rebuildFloorMs = undefined;
  }

  /** Every window's count and time span for a strategy (the current catalogue's), for a replay. */
  windowNeeds(strategy: string): WindowNeed[] {
    const s = this.strategies.get(strategy);
    return windowNeeds(s?.windows.resolved ?? resolveStrategy(this.catalogue, strategy));
  }

  /** The extra windows' names (windowNeeds' order after the main window). */
  windowNames(strategy: string): string[] {
    const s = this.strategies.get(strategy);
    return (s?.windows.resolved ?? resolveStrategy(this.catalogue, strategy)).windows.map(
      (w) => w.name,
    );
  }

  /** The entry id of the last sample applied to a strategy; undefined when not held. */
  lastEntryIdOf(strategy: string): string | undefined {
    return this.strategies.get(strategy)?.lastEntryId;
  }

  /**
   * The stream time (ms) of the oldest sample any window holds: a restart's
   * replay reads back to it, so time retention must not trim past it (the
   * windows of strategies forgotten or retired no longer hold anything).
   * Null when no strategy is held.
   */
  oldestHeldEntryMs(): number | null {
    let oldest: number | null = null;
    for (const s of this.strategies.values()) {
      for (const ms of [s.held.oldest(), s.rebuildFloorMs]) {
        if (ms !== undefined && (oldest === null || ms < oldest)) oldest = ms;
      }
    }
    return oldest;
  }

  /** The strategies held. */
  strategyIds(): IterableIterator<string> {
    return this.strategies.keys();
  }

  get strategyCount(): number {
    return this.strategies.size;
  }

  has(strategy: string): boolean {
    return this.strategies.has(strategy);
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
    forgetResolved(this.catalogue, strategy);
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
    let index = 0;
    for (const { id, value } of entries) {
      index++;
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
        p.span.fold(values, computeScoresInto(values, this.scratchScores), state.drift);
      }
      this.push(state, id, value);
      this.floor = id; // entries come in stream order
      if (p) {
        // One record per strategy per batch, moved on in place (this runs per sample).
        p.entryId = id;
        p.sample = value;
        p.last = index;
      } else {
        pending.set(value.strategy, {
          state,
          entryId: id,
          sample: value,
          firstEntryId: id,
          firstCount: state.metrics.count,
          last: index,
        });
      }
    }
    // Ordered by each strategy's latest sample: sorted once per batch, where
    // deleting and re-inserting each strategy's record at every sample made
    // the map grow and rehash (~100 bytes a sample).
    const order = [...pending.values()].sort((a, b) => a.last - b.last);
    const updates: ScoreUpdate[] = [];
    for (const p of order) updates.push(this.updateOf(p, now));
    return { updates, duplicates };
  }

  private updateOf(p: Pending, now: number): ScoreUpdate {
    const { state, sample, entryId } = p;
    const values = state.metrics.valuesInto(this.scratch);
    const scores = computeScores(values);
    p.span?.fold(values, scores, state.drift);
    const metrics = wireMetrics(values);
    const { resolved } = state.windows;
    const windows = state.windows.wire(this.scratch);
    const rebuilt = state.rebuilt;
    state.rebuilt = undefined;
    const update: ScoreUpdate = {
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
      ...(windows ? { windows } : {}),
      ...(Object.keys(resolved.tags).length > 0 ? { tags: resolved.tags } : {}),
      ...(resolved.matched.length > 0 ? { params: resolved.params } : {}),
      ...(rebuilt ? { rebuilt } : {}),
    };
    // The catalogue's derived metrics (README "Derived metrics"), from the update as built.
    return withDerived(update, this.catalogue);
  }

  private push(state: StrategyState, entryId: string, sample: StrategySample): void {
    state.windows.push(sample.return, sample.benchmarkReturn ?? null, sample.ts);
    state.held.push(entryMs(entryId));
    state.lastEntryId = entryId;
    state.lastReceivedAt = sample.receivedAt;
    state.lastTs = sample.ts;
    const drift = weightDrift(sample.weights, sample.targetWeights);
    if (drift !== null) state.drift = drift;
  }

  private state(strategy: string, floor = '0-0'): StrategyState {
    let s = this.strategies.get(strategy);
    if (!s) {
      const resolved = resolveStrategy(this.catalogue, strategy);
      const windows = new StrategyWindows(resolved, this.options.varCutoff);
      s = {
        held: heldFor(resolved),
        metrics: windows.main,
        windows,
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
