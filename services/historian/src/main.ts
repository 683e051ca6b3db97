import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createRedis,
  createRegistry,
  ensurePartitionCount,
  keysFor,
  loadHistorianConfig,
  loadOrExit,
  Shutdown,
  startHttpServer,
  waitReady,
  exitOnFatal,
  runServiceHeartbeat,
} from '@quantmon/shared';
import { connectHistory } from './database.js';
import { HistoryWriter } from './history-writer.js';
import { registerHistorianMetrics } from './historian-metrics.js';
import { runMaintenance } from './maintenance.js';
import { migrate, MigrationError } from './migrate.js';
import { runStreamCopier } from './stream-copier.js';
import { partitionedTables } from './time-partitions.js';

const config = loadOrExit('historian', loadHistorianConfig);
const log = createLogger('historian', config.logLevel).child({ replica: config.replicaId });
exitOnFatal(log); // an uncaught error or failed start-up step: logged at fatal, exit 1
const keys = keysFor(config.prefix);
const shutdown = new Shutdown(log, config.shutdownTimeoutMs);
shutdown.installSignalHandlers({ supervisorPid: config.supervisorPid });
const registry = createRegistry('historian');

const sql = connectHistory(config.databaseUrl, { name: `historian ${config.replicaId}` });
shutdown.register('postgres', () => sql.end());
try {
  const applied = await migrate(sql);
  if (applied.length > 0) log.info({ applied }, 'history migrations applied');
} catch (err) {
  if (!(err instanceof MigrationError)) throw err;
  process.stderr.write(`historian: ${err.message}\n`);
  process.exit(1);
}

const redis = createRedis(config, 'blocking', 'historian', log);
shutdown.register('redis', () => closeRedis(redis));
await waitReady(redis);
// Up/down, version and uptime for the pipeline health panel (service-heartbeat.ts).
const beat = { redis, keys, service: 'historian', replica: config.replicaId, log };
const beating = runServiceHeartbeat(beat, shutdown.signal);
shutdown.register('heartbeat', () => beating);
const partitions = await ensurePartitionCount(redis, keys, config.partitions).catch(
  (err: Error) => {
    process.stderr.write(`historian: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  },
);

const metrics = registerHistorianMetrics({ registry, redis, keys, partitions });
shutdown.register('metrics', () => metrics.close());
const server = await startHttpServer({
  port: config.port,
  host: config.listenHost,
  log,
  registry,
  health: () => ({ redis: redis.status === 'ready', postgres: metrics.postgresOk() }),
  info: () => ({ replica: config.replicaId, partitions, lastCommitAt: metrics.lastCommitAt() }),
});
shutdown.register('http', () => closeHttpServer(server));

const specs = partitionedTables(config.retention);
const maintenance = runMaintenance({
  sql,
  specs,
  everyMs: config.maintenanceMs,
  signal: shutdown.signal,
  log: log.child({ module: 'maintenance' }),
  onDropped: (n) => metrics.dropped(n),
});
shutdown.register('maintenance', () => maintenance);

const writer = new HistoryWriter(sql, config.retention);
const copier = runStreamCopier({
  redis,
  keys,
  partitions,
  consumer: config.replicaId,
  count: config.batch,
  pollMs: config.pollMs,
  claimIdleMs: config.claimIdleMs,
  write: (batch) => writer.write(batch),
  signal: shutdown.signal,
  log: log.child({ module: 'copier' }),
  onWritten: (counts, entries, seconds) => metrics.written(counts, entries, seconds),
  onMalformed: () => metrics.malformed(),
  onError: () => metrics.failed(),
  onRound: () => metrics.round(),
});
shutdown.register('copier', () => copier);
log.info({ port: config.port, partitions, retention: config.retention }, 'historian ready');
