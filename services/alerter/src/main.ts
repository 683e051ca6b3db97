import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  EMERGENCY_QUEUE,
  allPartitions,
  ensurePartitionCount,
  groupPosition,
  keysFor,
  loadAlerterConfig,
  loadOrExit,
  runPartitionOwnership,
  Shutdown,
  startHttpServer,
  waitReady,
  runServiceHeartbeat,
  exitOnFatal,
  groupProbe,
  GROUPS,
  monitorLoops,
} from '@quantmon/shared';
import { recordPipelineError } from '@quantmon/shared';
import { Queue } from 'bullmq';
import type { AlertEngine } from './alert-engine.js';
import { Counter, Gauge } from 'prom-client';
import { alertPartition, ALERTER_GROUP } from './partition-alerter.js';
import { alerterMetrics } from './metrics.js';
import { Alertmanager } from './notifier/alertmanager.js';
import { Notifier } from './notifier/notifier.js';
import { loadRules } from './rules-file.js';
import { rulesLoadedLog } from './rules-in-force.js';
import { loadRulesInForce, RULES_DOC_POLL_MS, rulesDocVersion } from './rules-store.js';
import { publishRules } from './rules-publisher.js';
import { watchRules } from './rules-watcher.js';

const config = loadOrExit('alerter', loadAlerterConfig);
const log = createLogger('alerter', config.logLevel).child({ replica: config.consumer });
exitOnFatal(log);
const keys = keysFor(config.prefix);

// A bad rules file stops start-up with every bad rule and field named.
const rules = await loadRules(config.rulesFile, config.noDataMs).catch((err: Error) => {
  process.stderr.write(
    `alerter: rules file ${config.rulesFile}:\n  ${err.message.replaceAll('\n', '\n  ')}\n`,
  );
  process.exit(78); // EX_CONFIG
});
log.info(rulesLoadedLog(rules, config.rulesFile), 'rules loaded');

const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers({ supervisorPid: config.supervisorPid });
const registry = createRegistry('alerter');
const m = alerterMetrics(registry);
m.rules.set(rules.rules.length);

const writer = createRedis(config, 'blocking', 'alerter-writer', log);
const queueConnection = createRedis(config, 'blocking', 'alerter-queue', log);
const notifyWorkerConnection = createRedis(config, 'blocking', 'alerter-notify', log);
const connections = [writer, queueConnection, notifyWorkerConnection];
shutdown.register('redis', async () => {
  await Promise.all(connections.map(closeRedis));
});
const emergencyQueue = new Queue(EMERGENCY_QUEUE, {
  connection: queueConnection,
  prefix: config.bullPrefix,
});
emergencyQueue.on('error', (err) => log.warn({ err: err.message }, 'emergency queue error'));
shutdown.register('queue', () => emergencyQueue.close());
const notifier = new Notifier({
  config: config.webhook,
  queueConnection,
  workerConnection: notifyWorkerConnection,
  bullPrefix: config.bullPrefix,
  log: log.child({ module: 'notifier' }),
  onDelivered: (kind) => m.notifications.inc({ kind, outcome: 'delivered' }),
  onFailed: (kind) => m.notifications.inc({ kind, outcome: 'failed' }),
});
shutdown.register('notifier', () => notifier.close());
const alertmanager = new Alertmanager({
  config: config.alertmanager,
  log: log.child({ module: 'alertmanager' }),
  onPost: (outcome) => m.alertmanagerPosts.inc({ outcome }),
});
shutdown.register('alertmanager', () => alertmanager.close());

await waitReady(writer);
// Up/down, version and uptime for the pipeline health panel (service-heartbeat.ts).
const beat = { redis: writer, keys, service: 'alerter', replica: config.consumer, log };
const beating = runServiceHeartbeat(beat, shutdown.signal);
shutdown.register('heartbeat', () => beating);
const partitions = await ensurePartitionCount(writer, keys, config.partitions).catch(
  (err: Error) => {
    process.stderr.write(`alerter: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  },
);
// Every partition's group exists from the first start, at '$': samples
// scored while no alerter owned a partition yet are still evaluated.
for (const p of allPartitions(partitions)) {
  const pk = keys.partition(p);
  for (const stream of [pk.scores, pk.systemSamples]) {
    await groupPosition(writer, stream, ALERTER_GROUP, '$');
  }
}
const published = {
  redis: writer,
  keys,
  log,
  file: config.rulesFile,
  replica: config.consumer,
};
await publishRules(published, rules);
const engines = new Set<AlertEngine>();
new Gauge({
  name: 'quantmon_alerter_tracked_subjects',
  help: 'Strategies and hosts with a last-seen time in this replica (its owned partitions)',
  registers: [registry],
  collect() {
    let n = 0;
    for (const e of engines) n += e.trackedSubjects;
    this.set(n);
  },
});
const forgotten = new Counter({
  name: 'quantmon_alerter_forgotten_subjects_total',
  help: 'Subjects forgotten (incidents closed, last-seen dropped): idle past IDLE_FORGET_AFTER, or retired; idle hosts dropped from the latest-system hash count too',
  labelNames: ['reason'],
  registers: [registry],
});
let currentRules = rules;

let ownedPartitions: readonly number[] = [];
// /healthz fails when an owned partition's loop has entries waiting and stops advancing.
const loops = monitorLoops({
  ...{ registry, stuckAfterMs: config.loopStuckMs, signal: shutdown.signal, log },
  base: () => ({ redis: writer.status === 'ready' }),
  probes: () =>
    ownedPartitions.flatMap((p) => [
      groupProbe(writer, `scores-p${p}`, keys.partition(p).scores, ALERTER_GROUP),
      groupProbe(writer, `system-p${p}`, keys.partition(p).systemSamples, ALERTER_GROUP),
      groupProbe(writer, `commands-p${p}`, keys.alertCommands, GROUPS.alerterCommands(p)),
    ]),
});
shutdown.register('loop-health', () => loops.done);
const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: loops.health,
  info: () => ({ replica: config.consumer, partitions: ownedPartitions, loops: loops.report() }),
});
shutdown.register('http', () => closeHttpServer(server));

const stopWatching = watchRules({
  path: config.rulesFile,
  watchFile: config.rulesWatch,
  log,
  // Rules set through the gateway (PUT /api/rules) replace the file while they exist.
  poll: { read: () => rulesDocVersion(writer, keys), everyMs: RULES_DOC_POLL_MS },
  reload: async () => {
    try {
      const next = await loadRulesInForce(writer, keys, config.rulesFile, config.noDataMs);
      currentRules = next;
      await Promise.all([...engines].map((e) => e.setRules(next)));
      m.rules.set(next.rules.length);
      await publishRules(published, next);
      log.info(rulesLoadedLog(next, config.rulesFile), 'rules reloaded');
    } catch (err) {
      m.reloadErrors.inc();
      log.error({ err: (err as Error).message }, 'rules reload failed: keeping the previous rules');
    }
  },
});
shutdown.register('rules-watcher', stopWatching);

const ownership = runPartitionOwnership({
  redis: writer,
  keys,
  owner: 'alerter',
  id: config.consumer,
  partitions,
  ttlMs: config.leaderTtlMs,
  signal: shutdown.signal,
  log: log.child({ module: 'leases' }),
  onChange: (owned) => {
    ownedPartitions = owned;
    m.leader.set(owned.length);
  },
  run: (lease) =>
    alertPartition(
      {
        writer,
        newReader: (name) => createRedis(config, 'blocking', name, log),
        closeReader: closeRedis,
        keys,
        replicaWait: config.replicaWait,
        log,
        tickMs: config.tickMs,
        claimIdleMs: config.claimIdleMs,
        engine: {
          emergencyQueue,
          notifier,
          minObservations: config.minObservations,
          metrics: m,
          onError: () => void recordPipelineError(writer, keys),
        },
        alertmanager,
        rules: () => currentRules,
        engines,
        onDeadLetter: (stream) => {
          m.deadLettered.inc({ stream });
          void recordPipelineError(writer, keys);
        },
        onLoopError: () => void recordPipelineError(writer, keys),
        idleForgetAfterMs: config.idleForgetAfterMs,
        onForgotten: (reason, n) => forgotten.inc({ reason }, n),
      },
      lease,
    ),
});
shutdown.register('partitions', () => ownership);
log.info(
  { port: config.port, rules: rules.rules.length, replica: config.consumer, partitions },
  'alerter ready',
);
