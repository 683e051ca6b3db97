import {
  AlertCommand,
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  EMERGENCY_QUEUE,
  GROUPS,
  keysFor,
  loadAlerterConfig,
  loadOrExit,
  runGroupConsumer,
  ScoreUpdate,
  Shutdown,
  startHttpServer,
  SystemSample,
  waitReady,
  type Entry,
} from '@quantmon/shared';
import { recordPipelineError } from '@quantmon/shared';
import { Queue } from 'bullmq';
import { AlertEngine } from './alert-engine.js';
import { runLeadership } from './leader.js';
import { alerterMetrics } from './metrics.js';
import { Notifier } from './notifier/notifier.js';
import { loadRules } from './rules-file.js';
import { watchRules } from './rules-watcher.js';

const config = loadOrExit('alerter', loadAlerterConfig);
const log = createLogger('alerter', config.logLevel);
const keys = keysFor(config.prefix);

// A bad rules file stops start-up with every bad rule and field named.
const rules = await loadRules(config.rulesFile, config.noDataMs).catch((err: Error) => {
  process.stderr.write(
    `alerter: rules file ${config.rulesFile}:\n  ${err.message.replaceAll('\n', '\n  ')}\n`,
  );
  process.exit(78); // EX_CONFIG
});

const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers();
const registry = createRegistry('alerter');
const m = alerterMetrics(registry);
m.rules.set(rules.rules.length);

const scoreReader = createRedis(config.redisUrl, 'blocking', 'alerter-scores', log);
const systemReader = createRedis(config.redisUrl, 'blocking', 'alerter-system', log);
const commandReader = createRedis(config.redisUrl, 'blocking', 'alerter-commands', log);
const writer = createRedis(config.redisUrl, 'blocking', 'alerter-writer', log);
const queueConnection = createRedis(config.redisUrl, 'blocking', 'alerter-queue', log);
const notifyWorkerConnection = createRedis(config.redisUrl, 'blocking', 'alerter-notify', log);
const connections = [
  scoreReader,
  systemReader,
  commandReader,
  writer,
  queueConnection,
  notifyWorkerConnection,
];
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

await waitReady(writer);
const engine = new AlertEngine(
  {
    redis: writer,
    keys,
    log,
    emergencyQueue,
    notifier,
    minObservations: config.minObservations,
    metrics: m,
    onError: () => void recordPipelineError(writer, keys),
  },
  rules,
);

const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: writer.status === 'ready' }),
});
shutdown.register('http', () => closeHttpServer(server));

const stopWatching = watchRules({
  path: config.rulesFile,
  watchFile: config.rulesWatch,
  log,
  reload: async () => {
    try {
      const next = await loadRules(config.rulesFile, config.noDataMs);
      await engine.setRules(next);
      m.rules.set(next.rules.length);
      log.info({ rules: next.rules.length }, 'rules reloaded');
    } catch (err) {
      m.reloadErrors.inc();
      log.error({ err: (err as Error).message }, 'rules reload failed: keeping the previous rules');
    }
  },
});
shutdown.register('rules-watcher', stopWatching);

/** One leadership term: consume the streams and run the timer until the term ends. */
async function lead(term: AbortSignal): Promise<void> {
  await engine.start(Date.now());
  const common = {
    group: GROUPS.alerter,
    consumer: config.consumer,
    // A new group starts at the newest entry: alerting on history would page people for the past.
    startId: '$' as const,
    deadLetterStream: keys.deadLetter,
    signal: term,
    claimIdleMs: config.claimIdleMs,
  };
  /** Dead letters and loop errors count in the metrics and in the collector's error rate. */
  const errorHooks = (label: string) => ({
    onDeadLetter: () => {
      m.deadLettered.inc({ stream: label });
      void recordPipelineError(writer, keys);
    },
    onLoopError: () => void recordPipelineError(writer, keys),
  });
  const loops = [
    runGroupConsumer({
      ...common,
      ...errorHooks('scores'),
      redis: scoreReader,
      stream: keys.scores,
      schema: ScoreUpdate,
      log: log.child({ stream: 'scores' }),
      handle: (entries: Entry<ScoreUpdate>[]) =>
        engine.observe(
          entries.map((e) => ({ id: e.id, input: { kind: 'score', update: e.value } })),
        ),
    }),
    runGroupConsumer({
      ...common,
      ...errorHooks('system-samples'),
      redis: systemReader,
      stream: keys.systemSamples,
      schema: SystemSample,
      log: log.child({ stream: 'system' }),
      handle: (entries: Entry<SystemSample>[]) =>
        engine.observe(
          entries.map((e) => ({ id: e.id, input: { kind: 'system', sample: e.value } })),
        ),
    }),
    runGroupConsumer({
      ...common,
      ...errorHooks('alert-commands'),
      // Commands written before the group existed still count.
      startId: '0' as const,
      redis: commandReader,
      stream: keys.alertCommands,
      schema: AlertCommand,
      log: log.child({ stream: 'alert-commands' }),
      handle: (entries: Entry<AlertCommand>[]) => engine.commands(entries.map((e) => e.value)),
    }),
  ];
  const timer = setInterval(() => {
    engine.tick().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'tick failed'));
  }, config.tickMs);
  await engine.tick().catch(() => undefined);
  await Promise.all(loops);
  clearInterval(timer);
  await engine.stop();
}

const leadership = runLeadership({
  redis: writer,
  key: keys.alerterLeader,
  id: config.consumer,
  ttlMs: config.leaderTtlMs,
  signal: shutdown.signal,
  log,
  lead,
  onChange: (leading) => m.leader.set(leading ? 1 : 0),
});
shutdown.register('leadership', () => leadership);
log.info(
  { port: config.port, rules: rules.rules.length, consumer: config.consumer },
  'alerter ready',
);
