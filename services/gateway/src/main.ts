import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  ensurePartitionCount,
  keysFor,
  loadGatewayConfig,
  loadOrExit,
  PartitionCountMismatch,
  resolveStart,
  Shutdown,
  startHttpServer,
  waitReady,
  runServiceHeartbeat,
  exitOnFatal,
  followerProbe,
  monitorLoops,
} from '@quantmon/shared';
import { parse as parseYaml } from 'yaml';
import { alertRoutes } from './alert-routes.js';
import { apiRoutes } from './api-routes.js';
import { apiAuthRoute } from './auth.js';
import { historyRouteSet } from './history-setup.js';
import { rulesRoute } from './rules-route.js';
import { EmergencyQueueReader } from './emergency-queue.js';
import { incidentRoutes } from './incident-routes.js';
import { pipelineRoutes } from './pipeline-routes.js';
import { rulesAdminRoute } from './rules-admin-route.js';
import { catalogueRoutes } from './catalogue-routes.js';
import { Fanout } from './fanout.js';
import { registerGatewayMetrics } from './gateway-metrics.js';
import { runGatewayForget } from './idle-forget.js';
import { retireRoute } from './retire-route.js';
import { GatewayState } from './gateway-state.js';
import { followPartitions } from './partition-followers.js';
import { replaySince } from './resume.js';
import { registerSeriesGauges } from './series-gauges.js';
import { serveStatic } from './static-files.js';
import { loadState, makeEntryHandler } from './stream-feed.js';
import { streamIndex, streamKey } from './topics.js';

const config = loadOrExit('gateway', loadGatewayConfig);
const log = createLogger('gateway', config.logLevel);
exitOnFatal(log);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers({ supervisorPid: config.supervisorPid });
const publicDir = fileURLToPath(new URL('../public', import.meta.url));
const openapi: unknown = parseYaml(
  readFileSync(fileURLToPath(new URL('../openapi.yaml', import.meta.url)), 'utf8'),
);
const registry = createRegistry('gateway');

const redis = createRedis(config, 'blocking', 'gateway', log);
const readers: ReturnType<typeof createRedis>[] = [];
shutdown.register('redis', async () => {
  await Promise.all(readers.map(closeRedis));
  await closeRedis(redis);
});
await waitReady(redis);
// Up/down, version and uptime for the pipeline health panel (service-heartbeat.ts).
const beat = { redis, keys, service: 'gateway', replica: config.gatewayId, log };
const beating = runServiceHeartbeat(beat, shutdown.signal);
shutdown.register('heartbeat', () => beating);
const partitions = await ensurePartitionCount(redis, keys, config.partitions).catch(
  (err: unknown) => {
    if (!(err instanceof PartitionCountMismatch)) throw err;
    process.stderr.write(`gateway: ${err.message}\n`);
    process.exit(78); // EX_CONFIG, as for any other bad setting
  },
);

// Positions first, then state: an entry written in between is applied twice
// (harmless, newest wins) rather than missed.
const index = streamIndex(keys, partitions);
const from = Object.fromEntries(
  await Promise.all([...index.keys()].map(async (s) => [s, await resolveStart(redis, s, '$')])),
) as Record<string, string>;
const state = new GatewayState(partitions);
for (const [key, at] of index) state.advance(at.stream, at.part, from[key] ?? '0-0');
await loadState(redis, keys, state, log);

// Read-only view of the emergency queue for the health panel and incident view.
const emergency = new EmergencyQueueReader(redis, config.bullPrefix);
shutdown.register('emergency-queue', () => emergency.close());
const policy = {
  tokens: config.tokens,
  allowedOrigins: config.allowedOrigins,
  proxy: config.proxyAuth,
};
// /healthz fails when a stream has entries past what this gateway has applied and it stops advancing.
const loops = monitorLoops({
  ...{ registry, stuckAfterMs: config.loopStuckMs, signal: shutdown.signal, log },
  base: () => ({
    redis: redis.status === 'ready',
    reader: readers.every((r) => r.status === 'ready'),
  }),
  probes: () =>
    [...index].map(([key, at]) =>
      followerProbe(redis, `${at.stream}-p${at.part}`, key, () => state.pos[at.stream][at.part]!),
    ),
});
shutdown.register('loop-health', () => loops.done);
const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: loops.health,
  info: () => ({ loops: loops.report() }),
  routes: [
    apiAuthRoute(policy),
    ...historyRouteSet({
      ...{ redis, keys, partitions, historyMaxScan: config.historyMaxScan },
      ...{ log, shutdown },
    }),
    alertRoutes(redis, keys, { partitions }),
    rulesAdminRoute(redis, keys, log.child({ module: 'rules-admin' })),
    rulesRoute(redis, keys, log.child({ module: 'rules' })),
    catalogueRoutes({
      redis,
      keys,
      file: config.strategiesFile,
      log: log.child({ module: 'catalogue' }),
    }),
    pipelineRoutes({
      ...{ redis, keys, partitions, emergency, downAfterMs: config.serviceDownMs },
      system: () => state.summary(Date.now()).system,
      log: log.child({ module: 'pipeline' }),
    }),
    incidentRoutes({ redis, keys, partitions, emergency, log: log.child({ module: 'incident' }) }),
    retireRoute({ redis, keys, partitions, state, log: log.child({ module: 'retire' }) }),
    apiRoutes({ redis, keys, state, partitions, historyMaxScan: config.historyMaxScan, openapi }),
    (req, res, url) => serveStatic(publicDir, req, res, url.pathname),
  ],
});
const fanout = new Fanout({
  server,
  state,
  log: log.child({ module: 'fanout' }),
  serverId: config.gatewayId,
  policy,
  limits: {
    highWater: config.writeHighWaterBytes,
    maxBacklog: config.maxBacklogBytes,
    clientRate: config.clientRate,
    clientBurst: config.clientBurst,
    maxTopics: config.maxTopics,
  },
  // Room for a subscribe that names every partition of every stream, however large P is.
  maxPayload: Math.max(config.maxMessageBytes, 4096 + partitions * 3 * 56),
  heartbeatMs: config.heartbeatMs,
  partitions,
  replayMax: config.replayMax,
  replay: (stream, part, since, match, budget) =>
    replaySince({ redis, key: streamKey(keys, stream, part), stream, part, since, match, budget }),
  onRejected: (reason) => metrics.rejected(reason),
});
const metrics = registerGatewayMetrics({ registry, fanout, state, redis, keys });
registerSeriesGauges(registry, state, config.seriesMax); // opt-in: GATEWAY_SERIES_MAX
const forgetting = runGatewayForget({
  ...{ state, registry, afterMs: config.idleForgetAfterMs, signal: shutdown.signal },
  log: log.child({ module: 'forget' }),
});
shutdown.register('forget', () => forgetting);
shutdown.register('http', () => closeHttpServer(server));
shutdown.register('websocket', () => fanout.close());

const followers = followPartitions({
  redis,
  connect: (name) => createRedis(config, 'blocking', name, log),
  keys,
  partitions,
  from,
  signal: shutdown.signal,
  log: log.child({ module: 'follower' }),
  onEntries: makeEntryHandler(
    index,
    state,
    (batch) =>
      fanout.publish(batch, () => {
        for (const b of batch) metrics.broadcast(b.pos);
      }),
    log,
    () => metrics.badEntry(),
    () => fanout.takesSpans,
  ),
});
readers.push(...followers.readers);
shutdown.register('follower', () => followers.done);
shutdown.register('metrics', () => metrics.close());
if (!existsSync(`${publicDir}/dist/app.js`)) {
  log.warn('dashboard bundle missing: run `npx tsx services/gateway/src/build-dashboard.ts`');
}
log.info(
  { port: config.port, partitions, url: `http://localhost:${config.port}/` },
  'gateway ready',
);
