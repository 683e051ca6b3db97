import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  ensurePartitionCount,
  keysFor,
  loadOrExit,
  loadScorerConfig,
  recordPipelineError,
  runPartitionOwnership,
  Shutdown,
  startHttpServer,
  waitReady,
  runServiceHeartbeat,
  exitOnFatal,
  groupProbe,
  GROUPS,
  monitorLoops,
  LiveCatalogue,
} from '@quantmon/shared';
import { Counter, Gauge, Histogram } from 'prom-client';
import { scorePartition } from './partition-scorer.js';
import type { ScorerCore } from './scorer-core.js';
import { retainedStreams, runStreamTrimmer } from './stream-trimmer.js';

const config = loadOrExit('scorer', loadScorerConfig);
const log = createLogger('scorer', config.logLevel).child({ replica: config.replicaId });
exitOnFatal(log);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers({ supervisorPid: config.supervisorPid });

const registry = createRegistry('scorer');
const applied = new Counter({
  name: 'quantmon_scorer_samples_applied_total',
  help: 'Samples applied to a window',
  registers: [registry],
});
const written = new Counter({
  name: 'quantmon_scorer_updates_written_total',
  help: 'Score updates written: one per strategy per read batch (samples applied / this = conflation)',
  registers: [registry],
});
const duplicates = new Counter({
  name: 'quantmon_scorer_duplicates_total',
  help: 'Redelivered samples skipped',
  registers: [registry],
});
const deadLettered = new Counter({
  name: 'quantmon_dead_letter_total',
  help: 'Malformed entries dead-lettered',
  labelNames: ['stream'],
  registers: [registry],
});
const processing = new Histogram({
  name: 'quantmon_processing_seconds',
  help: 'From a sample arriving at the collector to its score update being written',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
const owned = new Gauge({
  name: 'quantmon_partitions_owned',
  help: 'Partitions this replica holds the lease of',
  registers: [registry],
});

// Windows of the partitions this replica owns (forgetting: IDLE_FORGET_AFTER, DELETE /api/strategies).
const cores = new Set<ScorerCore>();
new Gauge({
  name: 'quantmon_scorer_tracked_strategies',
  help: 'Strategies with a window in this replica (its owned partitions)',
  registers: [registry],
  collect() {
    let n = 0;
    for (const c of cores) n += c.strategyCount;
    this.set(n);
  },
});
const forgotten = new Counter({
  name: 'quantmon_scorer_forgotten_strategies_total',
  help: 'Strategies whose window and latest state were dropped: idle past IDLE_FORGET_AFTER, or retired',
  labelNames: ['reason'],
  registers: [registry],
});

const writer = createRedis(config, 'blocking', 'scorer-writer', log);
shutdown.register('redis', () => closeRedis(writer));
await waitReady(writer);
// The strategy catalogue (STRATEGIES_FILE, or the admin API's document), hot-reloaded; a bad file stops start-up.
const catalogue = await LiveCatalogue.start({
  ...{ redis: writer, keys, file: config.strategiesFile, log: log.child({ module: 'catalogue' }) },
  base: {
    periodsPerYear: config.periodsPerYear,
    riskFree: config.riskFree,
    requiredReturn: config.requiredReturn,
    window: config.window,
  },
}).catch((err: Error) => {
  process.stderr.write(`scorer: strategy catalogue ${config.strategiesFile}:\n  ${err.message}\n`);
  process.exit(78); // EX_CONFIG
});
shutdown.register('catalogue', () => catalogue.close());
// Up/down, version and uptime for the pipeline health panel (service-heartbeat.ts).
const beat = { redis: writer, keys, service: 'scorer', replica: config.replicaId, log };
const beating = runServiceHeartbeat(beat, shutdown.signal);
shutdown.register('heartbeat', () => beating);
const partitions = await ensurePartitionCount(writer, keys, config.partitions).catch(
  (err: Error) => {
    process.stderr.write(`scorer: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  },
);

let ownedPartitions: readonly number[] = [];
/** Each owned partition's core once its replay is done (what its windows hold bounds time retention). */
const liveCores = new Map<number, ScorerCore>();
// /healthz fails when an owned partition's loop has samples waiting and stops advancing.
const loops = monitorLoops({
  ...{ registry, stuckAfterMs: config.loopStuckMs, signal: shutdown.signal, log },
  base: () => ({ redis: writer.status === 'ready' }),
  probes: () =>
    ownedPartitions.map((p) =>
      groupProbe(writer, `samples-p${p}`, keys.partition(p).strategySamples, GROUPS.scorer),
    ),
});
shutdown.register('loop-health', () => loops.done);
const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: loops.health,
  info: () => ({ replica: config.replicaId, partitions: ownedPartitions, loops: loops.report() }),
});
shutdown.register('http', () => closeHttpServer(server));

const ownership = runPartitionOwnership({
  redis: writer,
  keys,
  owner: 'scorer',
  id: config.replicaId,
  partitions,
  ttlMs: config.leaseTtlMs,
  signal: shutdown.signal,
  log: log.child({ module: 'leases' }),
  onChange: (parts) => {
    ownedPartitions = parts;
    owned.set(parts.length);
  },
  run: (lease) =>
    scorePartition(
      {
        writer,
        newReader: () => createRedis(config, 'blocking', `scorer-reader-p${lease.partition}`, log),
        closeReader: closeRedis,
        keys,
        replicaWait: config.replicaWait,
        lingerMs: config.lingerMs,
        partitions,
        catalogue,
        metricsOptions: {
          window: config.window,
          periodsPerYear: config.periodsPerYear,
          riskFree: config.riskFree,
          requiredReturn: config.requiredReturn,
          varCutoff: config.varCutoff,
        },
        log,
        onApplied: (n) => applied.inc(n),
        onWritten: (n) => written.inc(n),
        onDuplicate: () => duplicates.inc(),
        onProcessing: (s) => processing.observe(s),
        onDeadLetter: () => {
          deadLettered.inc({ stream: 'strategy-samples' });
          void recordPipelineError(writer, keys); // the collector's error rate
        },
        onLoopError: () => void recordPipelineError(writer, keys),
        idleForgetAfterMs: config.idleForgetAfterMs,
        onCore: (core, live) => {
          if (live) {
            cores.add(core);
            liveCores.set(lease.partition, core);
          } else {
            cores.delete(core);
            if (liveCores.get(lease.partition) === core) liveCores.delete(lease.partition);
          }
        },
        onForgotten: (reason, n) => forgotten.inc({ reason }, n),
      },
      lease,
    ),
});
shutdown.register('partitions', () => ownership);
// STREAM_RETENTION: each partition's owner trims its streams by age, never past what a group has yet to process.
if (config.streamRetentionMs > 0) {
  const trimming = runStreamTrimmer({
    ...{ redis: writer, retentionMs: config.streamRetentionMs, registry, signal: shutdown.signal },
    // A partition owned but not yet live is replaying: its samples are not trimmed then.
    streams: () =>
      retainedStreams(keys, ownedPartitions, (p) => () => {
        const core = liveCores.get(p);
        return core ? core.oldestHeldEntryMs() : 'restoring';
      }),
    log: log.child({ module: 'retention' }),
  });
  shutdown.register('retention', () => trimming);
}
log.info(
  { port: config.port, window: config.window, partitions, retentionMs: config.streamRetentionMs },
  'scorer ready',
);
