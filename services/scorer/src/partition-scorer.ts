import {
  FencedError,
  GROUPS,
  idleSweepIntervalMs,
  groupPosition,
  runOwnedReader,
  StrategySample,
  type Keys,
  type Lease,
  type LiveCatalogue,
  type Logger,
  type OwnedBatch,
  type ReadPause,
  type ReplicaWait,
  type StreamPosition,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { followCatalogue } from './catalogue-rebuild.js';
import type { MetricsOptions } from './metrics/index.js';
import { ForgetSweep } from './forget-sweep.js';
import { replayWindows } from './replay.js';
import { ScorerCore } from './scorer-core.js';
import { encodeUpdate, writeScores, type EncodedUpdate } from './score-writer.js';

export interface PartitionScorerDeps {
  /** Shared by the replica's terms for the fenced writes. */
  writer: Redis;
  /** Duplicated per term: the reader's XREAD BLOCK holds its connection. */
  newReader: () => Redis;
  closeReader: (r: Redis) => Promise<void>;
  keys: Keys;
  /** The defaults (the environment's) and the VaR cutoff; the catalogue sets the rest per strategy. */
  metricsOptions: MetricsOptions;
  /** The strategy catalogue in force, hot-reloaded (issue 15); none: every strategy on metricsOptions. */
  catalogue?: LiveCatalogue | undefined;
  /** WAIT for replicas after each write (REDIS_WAIT_REPLICAS). */
  replicaWait?: ReplicaWait | undefined;
  log: Logger;
  onApplied?: (n: number) => void;
  /** Score updates written (one per strategy per batch: fewer than samples under load). */
  onWritten?: (n: number) => void;
  onDuplicate?: () => void;
  onProcessing?: (seconds: number) => void;
  onDeadLetter?: () => void;
  onLoopError?: () => void;
  /** IDLE_FORGET_AFTER in ms (0: never); retirements are applied either way. */
  idleForgetAfterMs?: number;
  /** The term's windows, for the tracked-strategies gauge: live at the start, not at the end. */
  onCore?: (core: ScorerCore, live: boolean) => void;
  onForgotten?: (reason: 'idle' | 'retired', n: number) => void;
  /** The read cycle under a steady flow (LINGER_MS by default; 0: read again at once). */
  lingerMs?: number;
  /** How many partitions the pipeline has: each reads at its own phase of the beat. */
  partitions: number;
}

/** How often a term looks for retirements (DELETE /api/strategies waits on it). */
const RETIRE_POLL_MS = 500;

/**
 * Under a steady flow, a partition is read at most once per LINGER_MS: a
 * batch of at least LINGER_AFTER entries is followed by a pause that makes
 * its read-score-write cycle last LINGER_MS. Without it, a moderate rate
 * (half the maximum) is read a few samples at a time, one per strategy:
 * conflation stops working, and each sample costs the scorer's write, Redis,
 * the alerter and the gateway a whole score update and batch (2.5-4 times
 * the CPU per sample of the maximum, measured), so half the maximum rate
 * needed more CPU than the maximum and queued. A lone sample (an alert
 * after a quiet spell) never waits: its batch is below the threshold.
 * 40 ms, not 20, since 2026-12-04: half the updates of a steady flow, a
 * fifth less CPU at every rate (docs/performance.md, "The read beat").
 */
export const LINGER_MS = 40;
export const LINGER_AFTER = 4;

/**
 * Entries per read. When the scorer is behind (the maximum rate), each read
 * is full: a larger read spreads the read, the fenced write and one score
 * update per strategy over more samples, so the scorer, Redis, the alerter
 * and the gateway each pay less per sample (one update per strategy per
 * read: conflation). Under a steady flow a read holds what arrived in one
 * beat, far fewer. 2,000 stored samples are ~0.6 MB of reply.
 */
export const READ_COUNT = 2000;

/**
 * With many strategies a read of READ_COUNT holds a few samples of each, so
 * conflation fades just when the scorer is behind: at 4,000 strategies over
 * 8 partitions (500 each) a full read of 2,000 made 0.27 score updates per
 * sample at the maximum, against 0.04 at 100 strategies. A read grows to
 * FULL_READ_PER_STRATEGY samples per strategy the partition holds, up to
 * READ_COUNT_MAX (~3 MB of reply). Under a steady flow reads are small
 * anyway: only a scorer behind fills one.
 */
export const FULL_READ_PER_STRATEGY = 16;
export const READ_COUNT_MAX = 10_000;

/** Entries per read for a partition holding `strategies` strategies. */
export function readCount(strategies: number): number {
  return Math.min(READ_COUNT_MAX, Math.max(READ_COUNT, strategies * FULL_READ_PER_STRATEGY));
}

/**
 * When the read after a batch read at `readAt` may start: the next
 * multiple of `lingerMs` on the wall clock, shifted by `offsetMs` (the
 * partition's phase, `beatOffset`). A sample waits at most `lingerMs`.
 */
export function nextCycleAt(readAt: number, lingerMs: number, offsetMs = 0): number {
  return (Math.floor((readAt - offsetMs) / lingerMs) + 1) * lingerMs + offsetMs;
}

/**
 * Partition p of P reads at its own phase of the beat, p/P of it in: the
 * partitions take turns instead of reading together. Read together (the
 * first layout), every partition's batch was scored, written, judged and
 * delivered in one burst per beat, and the last of them waited for the
 * others at every stage: at half the maximum rate the burst took most of a
 * beat of the two cores. In turns, each burst is 1/P of it. Measured at
 * 30-32k samples/s on 8 partitions (docs/performance.md, "Partitions read
 * in turns"): POST-to-frame p50 28-30 -> 20-23 ms, p99 69-79 -> 53-68 ms,
 * for 4.5-9 % more CPU per sample (the alerter and the gateway wake per
 * partition rather than once per beat). Replicas need no coordination: the
 * phase is the partition's, whoever owns it.
 */
export function beatOffset(partition: number, partitions: number, lingerMs: number): number {
  return (partition * lingerMs) / partitions;
}

/**
 * One term of ownership of one partition: rebuild the windows up to the
 * committed position, then score every later sample in stream order, each
 * batch written with its position in one fenced step. The term ends when
 * the lease is lost or released; a fenced write ends it at once.
 */
export async function scorePartition(deps: PartitionScorerDeps, lease: Lease): Promise<void> {
  const pk = deps.keys.partition(lease.partition);
  const log = deps.log.child({ partition: lease.partition });
  const core = new ScorerCore(deps.metricsOptions, deps.catalogue?.current);
  const start = await groupPosition(deps.writer, pk.strategySamples, GROUPS.scorer, '0');
  await replayWindows(deps.writer, pk, start.id, core, log);
  if (lease.signal.aborted) return;
  const sweep = new ForgetSweep({
    ...{ redis: deps.writer, pk, lease, core, afterMs: deps.idleForgetAfterMs ?? 0 },
    log: log.child({ module: 'forget' }),
    ...(deps.onForgotten ? { onForgotten: deps.onForgotten } : {}),
  });
  // Batches and sweeps take turns: a sweep sees the windows a write left.
  let turn: Promise<unknown> = Promise.resolve();
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const next = turn.then(step);
    turn = next.catch(() => undefined);
    return next;
  };
  deps.onCore?.(core, true);
  const live = deps.catalogue;
  const unfollow = live
    ? followCatalogue({ live, redis: deps.writer, pk, lease, core, serial, log })
    : undefined;

  const lingerMs = deps.lingerMs ?? LINGER_MS;
  const offsetMs = beatOffset(lease.partition, deps.partitions, lingerMs);
  const handle = async (
    batches: OwnedBatch<StrategySample>[],
    positions: StreamPosition[],
  ): Promise<ReadPause | undefined> => {
    const readAt = Date.now();
    let n = 0;
    for (const b of batches) n += b.entries.length;
    await serial(() => score(batches, positions));
    // Outside the turn: a sweep may run while this partition lingers. The
    // reader pauses once it has let go of the batch (ReadPause).
    const rest = lingerMs > 0 ? nextCycleAt(readAt, lingerMs, offsetMs) - Date.now() : 0;
    return n >= LINGER_AFTER && rest > 1 ? { pauseMs: rest } : undefined;
  };
  const score = async (
    batches: OwnedBatch<StrategySample>[],
    positions: StreamPosition[],
  ): Promise<void> => {
    const now = Date.now();
    const entries = batches.length === 1 ? batches[0]!.entries : batches.flatMap((b) => b.entries);
    const applied = core.applyBatch(entries, now);
    for (let i = 0; i < applied.duplicates; i++) deps.onDuplicate?.();
    for (const { value } of entries) deps.onProcessing?.((now - value.receivedAt) / 1000);
    const updates: EncodedUpdate[] = applied.updates.map(encodeUpdate);
    try {
      await writeScores(
        deps.writer,
        pk,
        lease,
        GROUPS.scorer,
        positions,
        updates,
        deps.replicaWait,
      );
    } catch (err) {
      // The windows are ahead of Redis: the term ends, and the next owner
      // (this replica again, or another) rebuilds them from what Redis holds.
      lease.lost(`score write failed: ${(err as Error).message}`);
      throw err;
    }
    deps.onApplied?.(entries.length - applied.duplicates);
    deps.onWritten?.(updates.length);
  };

  const afterMs = deps.idleForgetAfterMs ?? 0;
  let nextIdle = afterMs > 0 ? Date.now() : Infinity;
  const sweepTick = async (): Promise<void> => {
    await sweep.retire();
    if (Date.now() < nextIdle) return;
    nextIdle = Date.now() + idleSweepIntervalMs(afterMs);
    await sweep.idle(Date.now());
  };
  let sweeping = false; // one sweep queued at a time, however slow the batches are
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    serial(sweepTick)
      .catch((err: unknown) => {
        if (err instanceof FencedError) lease.lost(err.message);
        else log.warn({ err }, 'forget sweep failed, will retry');
      })
      .finally(() => (sweeping = false));
  }, RETIRE_POLL_MS);
  // Outside the turns: a read-only HSCAN of the latest-scores hash.
  if (afterMs > 0) {
    sweep.scanOrphans().catch((err: unknown) => log.warn({ err }, 'orphan scan failed'));
  }
  const reader = deps.newReader();
  try {
    await runOwnedReader({
      redis: reader,
      streams: [{ key: pk.strategySamples, schema: StrategySample, startId: '0' }],
      count: () => readCount(core.strategyCount),
      group: GROUPS.scorer,
      deadLetterStream: deps.keys.deadLetter,
      handle,
      signal: lease.signal,
      log: log.child({ module: 'reader' }),
      // A failed write ends the term, so retries happen with rebuilt windows.
      maxFailures: 1_000_000,
      ...(deps.onDeadLetter ? { onDeadLetter: deps.onDeadLetter } : {}),
      ...(deps.onLoopError ? { onLoopError: deps.onLoopError } : {}),
    });
  } finally {
    clearInterval(timer);
    unfollow?.();
    await turn;
    deps.onCore?.(core, false);
    await deps.closeReader(reader);
  }
}
