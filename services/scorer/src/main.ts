import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  DATA_FIELD,
  GROUPS,
  keysFor,
  loadOrExit,
  loadScorerConfig,
  runGroupConsumer,
  Shutdown,
  startHttpServer,
  STREAM_MAXLEN,
  StrategySample,
  waitReady,
  type Entry,
} from '@quantmon/shared';
import { recordPipelineError } from '@quantmon/shared';
import { Counter, Histogram } from 'prom-client';
import { replayWindows } from './replay.js';
import { ScorerCore } from './scorer-core.js';

const config = loadOrExit('scorer', loadScorerConfig);
const log = createLogger('scorer', config.logLevel);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers();

const registry = createRegistry('scorer');
const applied = new Counter({
  name: 'quantmon_scorer_samples_applied_total',
  help: 'Samples applied to a window',
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

const reader = createRedis(config.redisUrl, 'blocking', 'scorer-reader', log);
const writer = createRedis(config.redisUrl, 'blocking', 'scorer-writer', log);
shutdown.register('redis', async () => {
  await closeRedis(reader);
  await closeRedis(writer);
});

const newCore = (): ScorerCore =>
  new ScorerCore({
    window: config.window,
    periodsPerYear: config.periodsPerYear,
    riskFree: config.riskFree,
    requiredReturn: config.requiredReturn,
    varCutoff: config.varCutoff,
  });
let core = newCore();
/**
 * Set when a score write failed after the core applied its batch: the
 * windows are ahead of Redis, and the redelivered batch would be skipped as
 * already applied. Rebuild them from what Redis holds before the retry.
 */
let stale = false;

/** Score a batch and write every update in one MULTI; the loop acks after. */
async function handle(entries: Entry<StrategySample>[]): Promise<void> {
  if (stale) {
    core = newCore();
    await replayWindows(writer, keys, core, log);
    stale = false;
  }
  const now = Date.now();
  const tx = writer.multi();
  let n = 0;
  for (const { id, value } of entries) {
    const update = core.apply(id, value, now);
    if (!update) {
      duplicates.inc();
      continue;
    }
    // Serialised once: the same JSON is the stream entry and the latest mark.
    const json = JSON.stringify(update);
    tx.xadd(keys.scores, 'MAXLEN', '~', STREAM_MAXLEN.scores, '*', DATA_FIELD, json);
    tx.hset(keys.latestScores, update.strategy, json);
    processing.observe((now - value.receivedAt) / 1000);
    n++;
  }
  if (n === 0) return void tx.discard();
  stale = true;
  const res = await tx.exec();
  if (!res || res.some(([err]) => err)) throw new Error('score transaction aborted');
  stale = false;
  applied.inc(n);
}

await waitReady(writer);
await replayWindows(writer, keys, core, log);

const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: writer.status === 'ready' }),
});
shutdown.register('http', () => closeHttpServer(server));

const loop = runGroupConsumer({
  redis: reader,
  stream: keys.strategySamples,
  group: GROUPS.scorer,
  // One named consumer: per-strategy order needs one owner; the fixed name
  // lets a restarted scorer pick up its own pending entries first.
  consumer: 'scorer-1',
  startId: '0',
  schema: StrategySample,
  deadLetterStream: keys.deadLetter,
  handle,
  signal: shutdown.signal,
  log: log.child({ module: 'consumer' }),
  onDeadLetter: () => {
    deadLettered.inc({ stream: 'strategy-samples' });
    void recordPipelineError(writer, keys); // the collector's error rate
  },
  onLoopError: () => void recordPipelineError(writer, keys),
});
shutdown.register('consumer', () => loop);
log.info({ port: config.port, window: config.window }, 'scorer ready');
