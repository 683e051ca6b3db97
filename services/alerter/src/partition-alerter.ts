import {
  AlertCommand,
  FencedError,
  GROUPS,
  idleSweepIntervalMs,
  runGroupConsumer,
  runOwnedReader,
  ScoreUpdate,
  SystemSample,
  type Entry,
  type Keys,
  type Lease,
  type Logger,
  type OwnedBatch,
  type ReplicaWait,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { AlertEngine, type EngineDeps } from './alert-engine.js';
import { AlerterForgetPlan } from './forget-plan.js';
import { sweepLatestSystem } from './latest-system-sweep.js';
import type { Alertmanager } from './notifier/alertmanager.js';
import type { RuleInput } from './metric-source.js';
import type { RuleSet } from './rules.js';

export interface PartitionAlerterDeps {
  /** Shared by the replica's terms for writes. */
  writer: Redis;
  /** A connection of the term's own per blocking reader. */
  newReader: (name: string) => Redis;
  closeReader: (r: Redis) => Promise<void>;
  keys: Keys;
  /** WAIT for replicas after each write (REDIS_WAIT_REPLICAS). */
  replicaWait?: ReplicaWait | undefined;
  log: Logger;
  tickMs: number;
  claimIdleMs: number;
  /** Everything an engine needs but its partition. */
  engine: Omit<EngineDeps, 'redis' | 'keys' | 'target' | 'log' | 'alertmanager'>;
  /** Each term's engine takes an outbox of its own (its partition's incidents). */
  alertmanager?: Alertmanager | undefined;
  rules: () => RuleSet;
  /** The live engines, so a rules reload reaches every owned partition. */
  engines: Set<AlertEngine>;
  onDeadLetter: (stream: string) => void;
  onLoopError: () => void;
  /** IDLE_FORGET_AFTER in ms (0: never); retirements are applied either way. */
  idleForgetAfterMs?: number;
  onForgotten?: (reason: 'idle' | 'retired', n: number) => void;
}

/** How often a term looks for retirements and idle subjects (DELETE /api/strategies waits on it). */
const FORGET_POLL_MS = 500;

type Input = ScoreUpdate | SystemSample;

/**
 * The group the alerter's owner of a partition holds on its scores and
 * system-samples streams. Created at '$' when the alerter first starts
 * (alerting on history would page people for the past), before any term.
 */
export const ALERTER_GROUP = GROUPS.alerter;

/**
 * One term of ownership of one partition: one incident engine for the
 * partition's strategies and hosts, fed by the partition's score updates
 * and host samples (read from the committed position, positions committed
 * with the transitions in one fenced step), the alert commands (each
 * partition reads the global command stream with a group of its own) and a
 * timer (no-data, repeats, outbox). A fenced write ends the term.
 */
export async function alertPartition(deps: PartitionAlerterDeps, lease: Lease): Promise<void> {
  const pk = deps.keys.partition(lease.partition);
  const log = deps.log.child({ partition: lease.partition });
  const engine = new AlertEngine(
    {
      ...deps.engine,
      redis: deps.writer,
      keys: deps.keys,
      target: { pk, lease, group: ALERTER_GROUP, wait: deps.replicaWait },
      log,
      ...(deps.alertmanager?.enabled
        ? { alertmanager: deps.alertmanager.outbox(log.child({ module: 'alertmanager' })) }
        : {}),
    },
    deps.rules(),
  );
  const fenced = (err: unknown): void => {
    if (err instanceof FencedError) lease.lost(err.message);
  };
  await engine.start(Date.now());
  deps.engines.add(engine);
  const streamReader = deps.newReader(`alerter-p${lease.partition}`);
  const commandReader = deps.newReader(`alerter-commands-p${lease.partition}`);
  const timer = setInterval(() => {
    engine.tick().catch((err: unknown) => {
      fenced(err);
      log.warn({ err: (err as Error).message }, 'tick failed');
    });
  }, deps.tickMs);
  const afterMs = deps.idleForgetAfterMs ?? 0;
  const plan = new AlerterForgetPlan({
    ...{ redis: deps.writer, pk, group: ALERTER_GROUP, afterMs },
    log: log.child({ module: 'forget' }),
    ...(deps.onForgotten ? { onForgotten: deps.onForgotten } : {}),
  });
  let nextHostSweep = 0;
  let forgetting = false; // one forget queued at a time, however busy the engine is
  const forgetTimer = setInterval(() => {
    if (!forgetting) {
      forgetting = true;
      engine
        .forget(plan)
        .catch((err: unknown) => {
          fenced(err);
          log.warn({ err }, 'forget sweep failed, will retry');
        })
        .finally(() => (forgetting = false));
    }
    // The global latest-system hash: one sweeper, the owner of partition 0.
    const now = Date.now();
    if (lease.partition !== 0 || afterMs <= 0 || now < nextHostSweep) return;
    nextHostSweep = now + idleSweepIntervalMs(afterMs);
    sweepLatestSystem(deps.writer, deps.keys.latestSystem, now - afterMs, lease.signal)
      .then((n) => {
        if (n > 0) deps.onForgotten?.('idle', n);
      })
      .catch((err: unknown) => log.warn({ err }, 'latest-system sweep failed, will retry'));
  }, FORGET_POLL_MS);
  try {
    await engine.tick().catch(fenced);
    await Promise.all([
      runOwnedReader<Input>({
        redis: streamReader,
        streams: [
          { key: pk.scores, schema: ScoreUpdate, startId: '$' },
          { key: pk.systemSamples, schema: SystemSample, startId: '$' },
        ],
        group: ALERTER_GROUP,
        deadLetterStream: deps.keys.deadLetter,
        signal: lease.signal,
        log: log.child({ module: 'reader' }),
        handle: (batches: OwnedBatch<Input>[], positions) =>
          engine.observe(
            batches.flatMap((b) => inputsOf(pk.scores, b)),
            positions,
          ),
        onDeadLetter: (_reason, stream) =>
          deps.onDeadLetter(stream === pk.scores ? 'scores' : 'system-samples'),
        onLoopError: deps.onLoopError,
      }).finally(() => lease.lost('reader ended')),
      runGroupConsumer({
        redis: commandReader,
        stream: deps.keys.alertCommands,
        group: GROUPS.alerterCommands(lease.partition),
        // One consumer name per partition: whichever replica owns it reads
        // the pending commands its predecessor left, in order.
        consumer: 'owner',
        // Commands written before the group existed still count.
        startId: '0',
        schema: AlertCommand,
        deadLetterStream: deps.keys.deadLetter,
        // Every partition reads every command: partition 0's group dead-letters a malformed one, once.
        deadLetterMalformed: lease.partition === 0,
        signal: lease.signal,
        claimIdleMs: deps.claimIdleMs,
        log: log.child({ stream: 'alert-commands' }),
        handle: (entries: Entry<AlertCommand>[]) =>
          engine.commands(entries.map((e) => e.value)).catch((err: unknown) => {
            fenced(err);
            throw err;
          }),
        onDeadLetter: () => deps.onDeadLetter('alert-commands'),
        onLoopError: deps.onLoopError,
      }),
    ]);
  } finally {
    clearInterval(timer);
    clearInterval(forgetTimer);
    deps.engines.delete(engine);
    await engine.stop();
    await Promise.all([deps.closeReader(streamReader), deps.closeReader(commandReader)]);
  }
}

function inputsOf(scoresKey: string, b: OwnedBatch<Input>): { id: string; input: RuleInput }[] {
  return b.stream === scoresKey
    ? b.entries.map((e) => ({ id: e.id, input: { kind: 'score', update: e.value as ScoreUpdate } }))
    : b.entries.map((e) => ({
        id: e.id,
        input: { kind: 'system', sample: e.value as SystemSample },
      }));
}
