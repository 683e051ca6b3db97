import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  followStreams,
  keysFor,
  loadGatewayConfig,
  loadOrExit,
  resolveStart,
  Shutdown,
  startHttpServer,
  waitReady,
} from '@quantmon/shared';
import { parse as parseYaml } from 'yaml';
import { alertRoutes } from './alert-routes.js';
import { apiRoutes } from './api-routes.js';
import { apiAuthRoute } from './auth.js';
import { Fanout } from './fanout.js';
import { registerGatewayMetrics } from './gateway-metrics.js';
import { GatewayState } from './gateway-state.js';
import { replaySince } from './resume.js';
import { serveStatic } from './static-files.js';
import { loadState, makeEntryHandler, resumeStreamOf } from './stream-feed.js';
import { streamKey } from './topics.js';

const config = loadOrExit('gateway', loadGatewayConfig);
const log = createLogger('gateway', config.logLevel);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers();
const publicDir = fileURLToPath(new URL('../public', import.meta.url));
const openapi: unknown = parseYaml(
  readFileSync(fileURLToPath(new URL('../openapi.yaml', import.meta.url)), 'utf8'),
);
const registry = createRegistry('gateway');

const reader = createRedis(config.redisUrl, 'blocking', 'gateway-reader', log);
const redis = createRedis(config.redisUrl, 'blocking', 'gateway', log);
shutdown.register('redis', async () => {
  await closeRedis(reader);
  await closeRedis(redis);
});
await waitReady(redis);

// Positions first, then state: an entry written in between is applied twice
// (harmless, newest wins) rather than missed.
const streams = [keys.scores, keys.systemSamples, keys.alerts];
const from = Object.fromEntries(
  await Promise.all(streams.map(async (s) => [s, await resolveStart(redis, s, '$')] as const)),
);
const state = new GatewayState();
for (const [key, id] of Object.entries(from)) {
  const s = resumeStreamOf(keys, key);
  if (s) state.advance(s, id);
}
await loadState(redis, keys, state, log);

const policy = { tokens: config.tokens, allowedOrigins: config.allowedOrigins };
const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: redis.status === 'ready', reader: reader.status === 'ready' }),
  routes: [
    apiAuthRoute(policy),
    alertRoutes(redis, keys),
    apiRoutes({ redis, keys, state, historyMaxScan: config.historyMaxScan, openapi }),
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
  },
  maxPayload: config.maxMessageBytes,
  heartbeatMs: config.heartbeatMs,
  replay: (stream, since, match) =>
    replaySince({
      redis,
      key: streamKey(keys, stream),
      stream,
      since,
      match,
      max: config.replayMax,
    }),
  onRejected: (reason) => metrics.rejected(reason),
});
const metrics = registerGatewayMetrics({ registry, fanout, state, redis, keys });
shutdown.register('http', () => closeHttpServer(server));
shutdown.register('websocket', () => fanout.close());

const loop = followStreams({
  redis: reader,
  from,
  signal: shutdown.signal,
  log: log.child({ module: 'follower' }),
  onEntries: makeEntryHandler(
    keys,
    state,
    (batch) =>
      fanout.publish(batch, () => {
        for (const b of batch) metrics.broadcast(b.pos);
      }),
    log,
    () => metrics.badEntry(),
  ),
});
shutdown.register('follower', () => loop);
shutdown.register('metrics', () => metrics.close());
if (!existsSync(`${publicDir}/dist/app.js`)) {
  log.warn('dashboard bundle missing: run `npx tsx services/gateway/src/build-dashboard.ts`');
}
log.info({ port: config.port, url: `http://localhost:${config.port}/` }, 'gateway ready');
