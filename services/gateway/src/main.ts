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
import { Counter, Gauge } from 'prom-client';
import { apiRoutes } from './api-routes.js';
import { Fanout } from './fanout.js';
import { GatewayState } from './gateway-state.js';
import { serveStatic } from './static-files.js';
import { loadState, makeEntryHandler } from './stream-feed.js';

const config = loadOrExit('gateway', loadGatewayConfig);
const log = createLogger('gateway', config.logLevel);
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers();
const publicDir = fileURLToPath(new URL('../public', import.meta.url));

const registry = createRegistry('gateway');
const framesOut = new Counter({
  name: 'quantmon_gateway_frames_out_total',
  help: 'Frames written to clients',
  registers: [registry],
});
const slowClosed = new Counter({
  name: 'quantmon_gateway_slow_closed_total',
  help: 'Clients closed for falling behind',
  registers: [registry],
});
const badEntries = new Counter({
  name: 'quantmon_gateway_malformed_entries_total',
  help: 'Stream entries skipped as malformed',
  registers: [registry],
});

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
await loadState(redis, keys, state, log);

const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: redis.status === 'ready' }),
  routes: [
    apiRoutes(redis, keys, state),
    (req, res, url) => serveStatic(publicDir, req, res, url.pathname),
  ],
});
const fanout = new Fanout({
  server,
  state,
  log: log.child({ module: 'fanout' }),
  serverId: config.gatewayId,
  onFrames: (n) => framesOut.inc(n),
  onSlowClose: () => slowClosed.inc(),
});
new Gauge({
  name: 'quantmon_gateway_connections',
  help: 'Open WebSocket connections',
  registers: [registry],
  collect() {
    this.set(fanout.connections);
  },
});
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
    (t, f) => fanout.publish(t, f),
    log,
    () => badEntries.inc(),
  ),
});
shutdown.register('follower', () => loop);
log.info({ port: config.port, url: `http://localhost:${config.port}/` }, 'gateway ready');
