import {
  appendSamples,
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  ensurePartitionCount,
  keysFor,
  LiveCatalogue,
  loadCollectorConfig,
  loadOrExit,
  PartitionCountMismatch,
  recordPipelineError,
  Shutdown,
  startHttpServer,
  runServiceHeartbeat,
  exitOnFatal,
  monitorLoops,
  type StrategySample,
} from '@quantmon/shared';
import { Counter, Gauge } from 'prom-client';
import { LagGate, readScorerLag } from './backpressure.js';
import { BenchmarkReturns } from './benchmark-returns.js';
import { HostSampler } from './host-sampler.js';
import { handleIngest, type IngestOptions } from './ingest.js';
import { ingestFastRoute } from './ingest-fast.js';
import { IngestSockets } from './ingest-socket.js';
import { WriteCoalescer, type WriteDone } from './write-coalescer.js';
import { pipelineCacheInfo } from './pipeline-cache.js';
import { readPipelineBacklog, registerPipelineGauges } from './pipeline-gauges.js';
import { PipelineStats } from './pipeline-stats.js';
import { ProbeRunner } from './probes.js';
import { redisLabel } from './redis-info.js';
import { checkRedisSettings } from './redis-settings.js';
import { SystemMetrics } from './system-metrics.js';
import { runSystemWriter } from './system-writer.js';

const config = loadOrExit('collector', loadCollectorConfig);
const log = createLogger('collector', config.logLevel);
exitOnFatal(log);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers({ supervisorPid: config.supervisorPid });

const registry = createRegistry('collector');
const ingested = new Counter({
  name: 'quantmon_ingest_samples_total',
  help: 'Strategy samples by outcome (written, late, duplicate, out-of-order)',
  labelNames: ['outcome'],
  registers: [registry],
});
// Every outcome's series from the start, at 0, so that rate() sees the first increment.
for (const outcome of ['written', 'late', 'duplicate', 'out-of-order'])
  ingested.inc({ outcome }, 0);
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
// Given the config, createRedis answers a Cluster client when REDIS_CLUSTER_NODES is set.
const ingestRedis = createRedis(config, 'fail-fast', 'collector-ingest', log);
const redis = createRedis(config, 'blocking', 'collector', log);
const caches = config.cacheRedisUrls.map((url, i) => ({
  name: redisLabel(url),
  conn: createRedis(url, 'fail-fast', `collector-cache-${i}`, log),
}));
shutdown.register('redis', async () => {
  await Promise.all([ingestRedis, redis, ...caches.map((c) => c.conn)].map(closeRedis));
});
const reportError = (): void => void recordPipelineError(ingestRedis, keys);
// Up/down, version and uptime for the pipeline health panel (service-heartbeat.ts).
const beat = { redis, keys, service: 'collector', replica: config.replicaId, log };
const beating = runServiceHeartbeat(beat, shutdown.signal);
shutdown.register('heartbeat', () => beating);

// Every process of one pipeline hashes with the same P; a different PARTITIONS refuses to start.
const partitions = await ensurePartitionCount(redis, keys, config.partitions).catch(
  (err: unknown) => {
    if (!(err instanceof PartitionCountMismatch)) throw err;
    process.stderr.write(`collector: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  },
);

// A Redis of the user's own may lack settings the pipeline counts on: say so once, do not refuse.
void checkRedisSettings(redis, log.child({ module: 'redis-settings' }));

// The catalogue's benchmarks: a strategy's missing benchmarkReturn is filled at ingest (benchmark-fill.ts).
const catalogue = await LiveCatalogue.start({
  ...{ redis, keys, file: config.strategiesFile, log: log.child({ module: 'catalogue' }) },
}).catch((err: Error) => {
  process.stderr.write(
    `collector: strategy catalogue ${config.strategiesFile}:\n  ${err.message}\n`,
  );
  process.exit(78); // EX_CONFIG
});
shutdown.register('catalogue', () => catalogue.close());
const benchmarks = new BenchmarkReturns({
  ...{ redis: ingestRedis, keys, catalogue },
  idleForgetAfterMs: config.idleForgetAfterMs,
});

registerPipelineGauges(registry, () =>
  readPipelineBacklog(redis, keys, partitions, config.bullPrefix),
);
const lagGate = new LagGate({
  maxLag: config.ingestMaxLag,
  cacheMs: config.ingestLagCheckMs,
  read: () => readScorerLag(ingestRedis, keys, partitions),
});
// /healthz fails when the host sampler stops completing iterations (a hung df, a stuck probe).
const loops = monitorLoops({
  ...{ registry, stuckAfterMs: config.loopStuckMs, signal: shutdown.signal, log },
  base: () => ({ redis: redis.status === 'ready', ingest: ingestRedis.status === 'ready' }),
});
shutdown.register('loop-health', () => loops.done);
// Group commit: concurrent requests share one write (one Lua step per partition).
// Four writes in flight, not two: with two, four clients posting 500-sample
// batches as fast as ingest accepts left Redis waiting between writes, and
// the whole pipeline scored 1-6 % less in five alternating pairs of
// bench:pipeline (2026-12-03); single-sample posts, which coalesce, were
// unchanged (docs/performance.md, "Writes in flight").
const WRITES_IN_FLIGHT = 4;
const coalescer = new WriteCoalescer(
  (samples) =>
    appendSamples(ingestRedis, config.prefix, samples, {
      partitions,
      replicaWait: config.replicaWait,
      orderToleranceMs: config.ingestOrderToleranceMs,
      idempotencyTtlSeconds: config.ingestIdempotencyTtlSeconds,
      maxLen: config.streamMaxLenSamples,
      // The answer carries counts and outcomes, not entry ids.
      entryIds: false,
    }),
  { maxInFlight: WRITES_IN_FLIGHT, maxSamples: Math.max(config.ingestMaxBatch, 1000) },
);
/**
 * A validated batch written, then its benchmark returns recorded; `done`
 * hears the result or the error (a failed write or record: 503). A
 * callback, not a promise: the fast path's posts wait in it by the
 * thousand (WriteCoalescer.enqueue).
 */
function submitIngest(filled: StrategySample[], done: WriteDone): void {
  coalescer.enqueue(filled, (err, result) => {
    if (!result) return done(err);
    let recorded: Promise<void> | undefined;
    try {
      recorded = benchmarks.record(filled, result);
    } catch (e) {
      return done(e);
    }
    if (!recorded) return done(null, result);
    recorded.then(
      () => done(null, result),
      (e: unknown) => done(e),
    );
  });
}
// Made once, not per request: every closure made per POST costs (tsx names each under npm start).
const ingestOptions: IngestOptions = {
  tokens: config.ingestTokens,
  log,
  maxBatch: config.ingestMaxBatch,
  maxBytes: config.ingestMaxBytes,
  maxFutureMs: config.ingestMaxFutureMs,
  fill: (samples) => benchmarks.fill(samples),
  submit: (filled, done) => submitIngest(filled, done),
  backpressure: () => lagGate.check(),
  onAccepted: (r) => {
    // No increment by 0 (each hashes its labels: four a request were ~1 % of
    // the collector's CPU on single-sample posts); the series exist from the
    // start all the same (below).
    if (r.accepted > r.late) ingested.inc({ outcome: 'written' }, r.accepted - r.late);
    if (r.late) ingested.inc({ outcome: 'late' }, r.late);
    if (r.duplicates) ingested.inc({ outcome: 'duplicate' }, r.duplicates);
    if (r.outOfOrder) ingested.inc({ outcome: 'out-of-order' }, r.outOfOrder);
  },
  onRejected: (status) => {
    rejected.inc({ status: String(status) });
    if (status >= 500) reportError();
  },
};
const handOvers = new Counter({
  name: 'quantmon_ingest_fast_path_handovers_total',
  help: "Connections the ingest fast path handed to Node's HTTP server, by why (not-plain, other-request, over-limit)",
  labelNames: ['reason'],
  registers: [registry],
});
const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  // Ready for traffic once the ingest connection is (a fail-fast client refuses commands before).
  health: loops.health,
  info: () => ({ partitions, loops: loops.report() }),
  // Plain posts to /v1/samples skip Node's HTTP machinery (fast-http.ts).
  // A handler exception is answered 500 by the fast path.
  fastRoutes: config.ingestFastPath ? [ingestFastRoute(ingestOptions, reportError)] : [],
  onFastHandOver: (reason) => handOvers.inc({ reason }),
  routes: [
    async (req, res, url) => {
      if (url.pathname !== '/v1/samples') return false;
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return true;
      }
      try {
        await handleIngest(req, res, ingestOptions);
      } catch (err) {
        reportError(); // a handler exception: answered 500 by the server
        throw err;
      }
      return true;
    },
  ],
});
shutdown.register('http', () => closeHttpServer(server));
// Trading systems that push one sample at a time: a frame per sample, not an HTTP request.
const socketAnswers = new Counter({
  name: 'quantmon_ingest_socket_answers_total',
  help: 'Ingest socket (/v1/samples/ws) messages answered, by status',
  labelNames: ['status'],
  registers: [registry],
});
const ingestSockets = new IngestSockets({
  server,
  ingest: ingestOptions,
  log: log.child({ module: 'ingest-socket' }),
  // 4096 single-sample messages are ~0.4 MB; a client that sends faster waits in TCP.
  maxPending: 4096,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 30_000,
  closeWaitMs: 5_000,
  onAnswered: (status) => socketAnswers.inc({ status: String(status) }),
});
new Gauge({
  name: 'quantmon_ingest_sockets',
  help: 'Open ingest socket connections',
  registers: [registry],
  collect() {
    this.set(ingestSockets.connections);
  },
});
// Closed before the HTTP server (steps close in reverse): its upgraded sockets would hold it open.
shutdown.register('ingest-socket', () => ingestSockets.close());

const probes = new ProbeRunner(config.probes, log.child({ module: 'probes' }));
probes.start(shutdown.signal);
shutdown.register('probes', () => probes.stopped());
const metrics = new SystemMetrics({
  hostId: config.hostId,
  probePercentile: config.probePercentile,
  probes,
  host: new HostSampler({
    diskMounts: config.diskMounts,
    caches: [
      { name: 'pipeline', info: () => pipelineCacheInfo(redis) },
      ...caches.map((c) => ({ name: c.name, info: () => c.conn.info('stats') })),
    ],
    log: log.child({ module: 'host-sampler' }),
  }),
  pipeline: new PipelineStats(redis, keys, partitions, config.bullPrefix),
});

const sampler = runSystemWriter(
  {
    redis,
    keys,
    partitions,
    intervalMs: config.systemIntervalMs,
    prime: (now) => metrics.prime(now),
    measure: (now) => metrics.sample(now),
    log: log.child({ module: 'system-writer' }),
    onWritten: () => {
      systemSamples.inc();
      loops.beat('system-writer', config.systemIntervalMs);
    },
    onError: () => {
      loops.beat('system-writer', config.systemIntervalMs);
      sampleErrors.inc();
      reportError();
    },
  },
  shutdown.signal,
);
shutdown.register('sampler', () => sampler);
log.info(
  {
    port: config.port,
    host: config.hostId,
    partitions,
    cluster: config.clusterNodes.length > 0,
    intervalMs: config.systemIntervalMs,
    probes: config.probes.map((p) => p.name),
    caches: caches.map((c) => c.name),
  },
  'collector ready',
);
