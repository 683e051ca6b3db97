import {
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
import { Queue } from 'bullmq';
import { Counter } from 'prom-client';
import { AlerterCore, type Transition } from './alerter-core.js';
import { enqueueOnce } from './emergency.js';
import { loadIncidents, markJobEnqueued, writeTransitions } from './incident-store.js';
import { DEFAULT_RULES, type RuleInput } from './rules.js';

const config = loadOrExit('alerter', loadAlerterConfig);
const log = createLogger('alerter', config.logLevel);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers();

const registry = createRegistry('alerter');
const events = new Counter({
  name: 'quantmon_alert_events_total',
  help: 'Alert events written',
  labelNames: ['rule', 'state'],
  registers: [registry],
});
const jobs = new Counter({
  name: 'quantmon_emergency_jobs_total',
  help: 'Emergency jobs enqueued',
  labelNames: ['name'],
  registers: [registry],
});
const deadLettered = new Counter({
  name: 'quantmon_dead_letter_total',
  help: 'Malformed entries dead-lettered',
  labelNames: ['stream'],
  registers: [registry],
});
const enqueueErrors = new Counter({
  name: 'quantmon_emergency_enqueue_errors_total',
  help: 'Failed attempts to enqueue an emergency job (retried)',
  registers: [registry],
});

const scoreReader = createRedis(config.redisUrl, 'blocking', 'alerter-scores', log);
const systemReader = createRedis(config.redisUrl, 'blocking', 'alerter-system', log);
const writer = createRedis(config.redisUrl, 'blocking', 'alerter-writer', log);
const queueConnection = createRedis(config.redisUrl, 'blocking', 'alerter-queue', log);
shutdown.register('redis', async () => {
  await Promise.all([scoreReader, systemReader, writer, queueConnection].map(closeRedis));
});
const queue = new Queue(EMERGENCY_QUEUE, {
  connection: queueConnection,
  prefix: config.bullPrefix,
});
queue.on('error', (err) => log.warn({ err: err.message }, 'emergency queue error'));
shutdown.register('queue', () => queue.close());

await waitReady(writer);
const core = new AlerterCore(
  DEFAULT_RULES,
  config.minObservations,
  await loadIncidents(writer, keys, log),
);

/**
 * The outbox: every critical incident without a confirmed job gets one.
 * Runs after each batch and on a timer, so a failed enqueue (Redis blip)
 * is retried without waiting for the next breach.
 */
let dispatching: Promise<void> = Promise.resolve();
function dispatchJobs(): Promise<void> {
  dispatching = dispatching.then(async () => {
    for (const incident of core.pendingJobs()) {
      try {
        const outcome = await enqueueOnce(queue, writer, keys, incident);
        await markJobEnqueued(writer, keys, incident);
        if (outcome === 'enqueued') jobs.inc({ name: incident.action ?? 'unknown' });
      } catch (err) {
        enqueueErrors.inc();
        log.warn(
          { err: (err as Error).message, incident: incident.firing.incidentId },
          'enqueue failed, will retry',
        );
      }
    }
  });
  return dispatching;
}

async function apply(inputs: { id: string; input: RuleInput }[]): Promise<void> {
  const now = Date.now();
  const transitions: Transition[] = inputs.flatMap(({ id, input }) => core.observe(input, id, now));
  await writeTransitions(writer, keys, transitions);
  for (const t of transitions) {
    events.inc({ rule: t.event.rule, state: t.event.state });
    log.info(
      { incident: t.event.incidentId, state: t.event.state, value: t.event.value },
      t.event.message,
    );
  }
  if (transitions.some((t) => t.kind === 'open' && t.incident.action)) await dispatchJobs();
}

const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: writer.status === 'ready' }),
});
shutdown.register('http', () => closeHttpServer(server));

const common = {
  group: GROUPS.alerter,
  consumer: config.consumer,
  // A new group starts at the newest entry: alerting on history would page people for the past.
  startId: '$' as const,
  deadLetterStream: keys.deadLetter,
  signal: shutdown.signal,
};
const loops = [
  runGroupConsumer({
    ...common,
    redis: scoreReader,
    stream: keys.scores,
    schema: ScoreUpdate,
    log: log.child({ stream: 'scores' }),
    handle: (entries: Entry<ScoreUpdate>[]) =>
      apply(entries.map((e) => ({ id: e.id, input: { kind: 'score', update: e.value } }))),
    onDeadLetter: () => deadLettered.inc({ stream: 'scores' }),
  }),
  runGroupConsumer({
    ...common,
    redis: systemReader,
    stream: keys.systemSamples,
    schema: SystemSample,
    log: log.child({ stream: 'system' }),
    handle: (entries: Entry<SystemSample>[]) =>
      apply(entries.map((e) => ({ id: e.id, input: { kind: 'system', sample: e.value } }))),
    onDeadLetter: () => deadLettered.inc({ stream: 'system-samples' }),
  }),
];
shutdown.register('consumers', () => Promise.all(loops).then(() => undefined));

await dispatchJobs();
const retry = setInterval(() => void dispatchJobs(), 5000);
shutdown.register('dispatch', async () => {
  clearInterval(retry);
  await dispatching;
});
log.info(
  { port: config.port, rules: DEFAULT_RULES.length, openIncidents: core.incidents.size },
  'alerter ready',
);
