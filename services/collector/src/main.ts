import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  encodeEntry,
  keysFor,
  loadCollectorConfig,
  loadOrExit,
  Shutdown,
  startHttpServer,
  STREAM_MAXLEN,
  SystemSample,
  writeSamples,
  abortableSleep,
} from '@quantmon/shared';
import { Counter } from 'prom-client';
import { HostSampler } from './host-sampler.js';
import { handleIngest } from './ingest.js';

const config = loadOrExit('collector', loadCollectorConfig);
const log = createLogger('collector', config.logLevel);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers();

const registry = createRegistry('collector');
const accepted = new Counter({
  name: 'quantmon_ingest_samples_total',
  help: 'Strategy samples accepted',
  registers: [registry],
});
const rejected = new Counter({
  name: 'quantmon_ingest_rejected_total',
  help: 'Ingest requests rejected',
  labelNames: ['status'],
  registers: [registry],
});
const systemSamples = new Counter({
  name: 'quantmon_system_samples_total',
  help: 'Host samples written',
  registers: [registry],
});
const sampleErrors = new Counter({
  name: 'quantmon_system_sample_errors_total',
  help: 'Host samples that could not be measured or written',
  registers: [registry],
});

// The ingest path fails fast (503) while Redis is down; the sampler waits it out.
const ingestRedis = createRedis(config.redisUrl, 'fail-fast', 'collector-ingest', log);
const redis = createRedis(config.redisUrl, 'blocking', 'collector', log);
shutdown.register('redis', async () => {
  await closeRedis(ingestRedis);
  await closeRedis(redis);
});

const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: redis.status === 'ready' }),
  routes: [
    async (req, res, url) => {
      if (url.pathname !== '/v1/samples') return false;
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return true;
      }
      await handleIngest(req, res, {
        tokens: config.ingestTokens,
        maxBatch: config.ingestMaxBatch,
        maxBytes: config.ingestMaxBytes,
        write: (samples) => writeSamples(ingestRedis, config.prefix, samples),
        onAccepted: (n) => accepted.inc(n),
        onRejected: (status) => rejected.inc({ status: String(status) }),
      });
      return true;
    },
  ],
});
shutdown.register('http', () => closeHttpServer(server));

const sampler = new HostSampler({
  hostId: config.hostId,
  diskMounts: config.diskMounts,
  redisInfo: () => redis.info('stats'),
  log: log.child({ module: 'host-sampler' }),
});

/** One sample per interval, on a fixed cadence; a slow sample never overlaps the next. */
async function sampleLoop(signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const started = Date.now();
    try {
      const sample = SystemSample.parse(await sampler.sample(started));
      await redis
        .multi()
        .xadd(
          keys.systemSamples,
          'MAXLEN',
          '~',
          STREAM_MAXLEN.systemSamples,
          '*',
          ...encodeEntry(sample),
        )
        .hset(keys.latestSystem, sample.host, JSON.stringify(sample))
        .exec();
      systemSamples.inc();
    } catch (err) {
      sampleErrors.inc();
      log.warn({ err: (err as Error).message }, 'host sample failed');
    }
    await abortableSleep(Math.max(0, config.systemIntervalMs - (Date.now() - started)), signal);
  }
}
const loop = sampleLoop(shutdown.signal);
shutdown.register('sampler', () => loop);
log.info(
  { port: config.port, host: config.hostId, intervalMs: config.systemIntervalMs },
  'collector ready',
);
