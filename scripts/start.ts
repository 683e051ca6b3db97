/**
 * `npm start`: the whole pipeline on this machine as separate processes.
 * Uses REDIS_URL (or REDIS_CLUSTER_NODES) when set, otherwise starts a
 * redis-server of its own (own port, own data folder under .quantmon/), then
 * the four services and the demo feed (unless --no-demo). `--scorers N` and
 * `--alerters N` start N identical replicas of each (they share the
 * partitions). Its own Redis and PostgreSQL keep their data between runs
 * (the banner says what was restored); `--fresh` starts clean
 * (start-state.ts). Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildDashboard } from '../services/gateway/src/build-dashboard.js';
import {
  pingRedis,
  portFree,
  PortTakenError,
  spawnRedisServer,
  type LocalRedis,
} from './local-redis.js';
import { localHistoryDir, startLocalHistory } from './embedded-postgres.js';
import { formatLogLine } from './log-format.js';
import { startConfigOrExit, unknownFlags } from './start-config.js';
import { restoredLine, restoredState, wipeLocalState } from './start-state.js';
import { superviseRedis } from './own-redis.js';
import { stopLeftover } from './leftover-server.js';
import { describeExit, Supervisor } from './supervisor.js';
import { serveSupervisorMetrics } from './supervisor-metrics.js';
import { openRestartLog, type RestartLog } from './supervisor-restarts.js';

const root = resolve(import.meta.dirname, '..');
// Our own variables first: GATEWAY_PORT=abc is a message, not a stack trace.
const config = startConfigOrExit(process.env);
// Restarts any service that exits unexpectedly, with backoff; gives up on a crash loop.
const supervisor = new Supervisor(config.restartPolicy);
const argv = process.argv.slice(2);
const args = new Set(argv);
const unknown = unknownFlags(argv);
if (unknown.length > 0) {
  fail(
    `unknown argument ${unknown.join(' ')}: npm start takes --fresh, --no-demo, --no-history, --scorers N, --alerters N`,
  );
}
const demo = !args.has('--no-demo');
// History in PostgreSQL (DATABASE_URL, else an embedded one); --no-history: none, no historian.
const history = !args.has('--no-history');
// Drop what earlier runs left in npm start's own Redis and PostgreSQL (start-state.ts).
const fresh = args.has('--fresh');

/** `--name N` or `--name=N`: a replica count from 1 to 16. */
function replicas(name: string): number {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return 1;
  const raw = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    fail(`--${name} wants a count from 1 to 16, got ${raw}`);
  return n;
}
const scorerCount = replicas('scorers');
const alerterCount = replicas('alerters');
const children: { name: string; proc: ChildProcess }[] = [];
let stopping = false;
// Restarts written to Redis for the dashboard's pipeline view, once Redis is known
// (stop() may run before that: hence no const at the assignment).
// eslint-disable-next-line prefer-const
let restartLog: RestartLog | undefined;

function say(msg: string): void {
  process.stdout.write(
    `${formatLogLine('start', JSON.stringify({ level: 30, time: Date.now(), msg }))}\n`,
  );
}

function fail(msg: string): never {
  process.stderr.write(`\nquantmon: ${msg}\n\n`);
  process.exit(1);
}

function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function firstFreePort(from: number): Promise<number> {
  for (let p = from; p < from + 200; p++) if (await portFree(p)) return p;
  fail(`no free port found from ${from}`);
}

/**
 * Start one service. One that exits unexpectedly is started again after the
 * supervisor's backoff (a replica's partitions are held by the others
 * meanwhile); too many exits in a short time stop the pipeline.
 */
function run(name: string, file: string, env: NodeJS.ProcessEnv, restart = false): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`${formatLogLine(name, line)}\n`),
    );
  }
  const startedAt = Date.now();
  proc.on('exit', (code, signal) => {
    if (stopping) return;
    const decision = supervisor.exited(name, describeExit(code, signal), Date.now(), startedAt);
    say(`${decision.message}${restart ? ' (the other replicas hold its partitions)' : ''}`);
    if (decision.action === 'give-up') return void stop(1);
    const how = { code, signal, how: describeExit(code, signal), at: Date.now() };
    restartLog?.record({ child: name, file, restarts: supervisor.restarts(name), ...how });
    const i = children.findIndex((c) => c.proc === proc);
    if (i >= 0) children.splice(i, 1);
    setTimeout(() => {
      if (!stopping) run(name, file, env, restart);
    }, decision.delayMs);
  });
  children.push({ name, proc });
  return proc;
}

async function startRedis(): Promise<string> {
  const bin = findOnPath('redis-server');
  if (!bin) {
    fail(
      'no Redis to use. Either:\n' +
        '  - install one: sudo apt-get install redis-server   (npm start then runs its own, on its own port)\n' +
        '  - or point at yours: REDIS_URL=redis://host:6379 npm start\n' +
        '  - or run everything in containers: docker compose up',
    );
  }
  const dir = ownRedisDir;
  mkdirSync(dir, { recursive: true });
  // AOF every second (BullMQ's production setting): a restart of `npm start`
  // keeps the history. Its own process group: Ctrl-C reaches the services at
  // once, but Redis is stopped by us, last, after they have flushed and acked.
  // Another starter may take the free port we chose before our server binds
  // it (PortTakenError): then the next one.
  let from = config.ownRedisPort;
  const spawnOwn = async (): Promise<LocalRedis> => {
    const port = await firstFreePort(from);
    return spawnRedisServer({
      bin,
      port,
      dir,
      persistence: 'aof-everysec',
      pidFile: ownRedisPidFile,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its warnings (memory overcommit, a failed AOF write) in npm start's
      // output, not every AOF rewrite and client.
      logLevel: 'warning',
    }).catch((err: unknown) => {
      if (!(err instanceof PortTakenError) || from > config.ownRedisPort + 16) throw err;
      from = port + 1;
      return spawnOwn();
    });
  };
  const redis = await spawnOwn().catch((err: unknown) =>
    fail(`redis-server did not start: ${(err as Error).message}`),
  );
  superviseRedis(redis, {
    say,
    log: (line) => process.stdout.write(`${formatLogLine('redis', line)}\n`),
    stopping: () => stopping,
    exited: (how, startedAt) => supervisor.exited('redis', how, Date.now(), startedAt),
    running: (proc, previous) => {
      const i = children.findIndex((c) => c.proc === previous);
      if (i >= 0) children.splice(i, 1);
      children.push({ name: 'redis', proc });
    },
    restarted: (ended) =>
      restartLog?.record({
        child: 'redis',
        file: 'redis',
        restarts: supervisor.restarts('redis'),
        ...ended,
      }),
    giveUp: () => void stop(1),
  });
  say(`started redis-server on ${redis.url} (data in ${dir})`);
  return redis.url;
}

async function waitHealthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** SIGTERM, then SIGKILL if it has not exited 12 s later. */
function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise<void>((res) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 12_000);
    proc.once('exit', () => {
      clearTimeout(t);
      res();
    });
    proc.kill('SIGTERM');
  });
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  await restartLog?.close(); // before Redis stops
  // Services first (they flush and ack), then PostgreSQL (the historian's),
  // Redis last. The services stop together: none waits on another, and one
  // after the other their shutdown deadlines added up (with Redis gone,
  // each waits out its 10 s: 40 s before npm start returned).
  const stages = [
    children.filter((c) => c.name !== 'postgres' && c.name !== 'redis'),
    children.filter((c) => c.name === 'postgres'),
    children.filter((c) => c.name === 'redis'),
  ];
  for (const stage of stages) await Promise.all(stage.map((c) => stopChild(c.proc)));
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
// A closed pipe (`npm start | tee` after Ctrl-C) must not kill us before we stop the children.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
// Last resort if we die anyway: Redis runs in its own process group and would outlive us.
process.on('exit', () => {
  for (const { proc } of children)
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
});
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));

const { gatewayPort, collectorPort } = config;
for (const [name, p] of [
  ['GATEWAY_PORT', gatewayPort],
  ['COLLECTOR_PORT', collectorPort],
] as const) {
  if (!(await portFree(p))) fail(`port ${p} (${name}) is in use: set ${name} to another port`);
}
// The dashboard is TypeScript: bundle it (esbuild, ~1 s) before the gateway serves it.
try {
  await buildDashboard();
} catch (err) {
  fail(`building the dashboard failed: ${(err as Error).message}`);
}
const clusterNodes = process.env['REDIS_CLUSTER_NODES'];
const ownRedisDir = join(root, '.quantmon', `redis-${gatewayPort}`);
/** npm start's own Redis writes its pid here (and removes it when it stops). */
const ownRedisPidFile = join(ownRedisDir, 'redis-server.pid');
const ownHistoryData = join(localHistoryDir(root), 'data');
// Before --fresh wipes their folders and before ours start on them: servers
// an earlier npm start left running when it was killed (leftover-server.ts).
const leftovers: { name: string; pidFile: string; dir: string; signal: NodeJS.Signals }[] = [];
if (!process.env['REDIS_URL'] && !clusterNodes)
  leftovers.push({
    name: 'redis-server',
    pidFile: ownRedisPidFile,
    dir: ownRedisDir,
    signal: 'SIGTERM',
  });
if (history && !process.env['DATABASE_URL']) {
  const pidFile = join(ownHistoryData, 'postmaster.pid');
  leftovers.push({ name: 'postgres', pidFile, dir: ownHistoryData, signal: 'SIGINT' });
}
// A leftover whose parent is a running npm start (two started at once) is not ours to stop.
const owner = 'scripts/start.ts';
for (const l of leftovers) {
  const pid = await stopLeftover({ ...l, timeoutMs: 30_000, owner }).catch((err: unknown) =>
    fail((err as Error).message),
  );
  if (pid !== undefined)
    say(`stopped ${l.name} (pid ${pid}) that an earlier npm start left running on ${l.dir}`);
}
if (fresh) {
  if (process.env['REDIS_URL'] || clusterNodes) {
    fail(
      '--fresh clears only the Redis and PostgreSQL npm start runs itself (under .quantmon/).\n' +
        '  REDIS_URL / REDIS_CLUSTER_NODES point at a Redis of your own: clear it yourself, or unset them.',
    );
  }
  const ownPostgres = history && !process.env['DATABASE_URL'];
  const removed = wipeLocalState([ownRedisDir, ...(ownPostgres ? [localHistoryDir(root)] : [])]);
  say(
    removed.length > 0
      ? `--fresh: removed ${removed.join(', ')} (windows, incidents, strategies${ownPostgres ? ', history' : ''})`
      : '--fresh: nothing to remove, this is a first run',
  );
  if (process.env['DATABASE_URL']) say('--fresh: DATABASE_URL is your own database: left as it is');
}
const redisUrl =
  process.env['REDIS_URL'] ??
  (clusterNodes ? clusterNodes.split(',')[0]!.trim() : await startRedis());
if (!(await pingRedis(redisUrl))) fail(`cannot reach Redis at ${redisUrl}`);
// What an earlier run left (own Redis: AOF under .quantmon/): said in the banner.
const restored =
  process.env['REDIS_URL'] || clusterNodes
    ? undefined
    : await restoredState(redisUrl, config.prefix)
        .then((s) => restoredLine(s, demo))
        .catch(() => undefined);
restartLog = await openRestartLog({
  target: { redisUrl, clusterNodes: config.clusterNodes },
  prefix: config.prefix,
  host: hostname() || 'host',
  onError: say,
});
const databaseUrl = history ? process.env['DATABASE_URL'] || (await localHistory()) : undefined;
async function localHistory(): Promise<string> {
  const port = await firstFreePort(5433);
  const pg = await startLocalHistory({
    root,
    port,
    onLog: (line) => process.stdout.write(`${formatLogLine('postgres', line)}\n`),
  }).catch((err: unknown) =>
    fail(`PostgreSQL for history did not start: ${(err as Error).message} (--no-history: none)`),
  );
  children.push({ name: 'postgres', proc: pg.proc });
  say(`started PostgreSQL on 127.0.0.1:${pg.port} (data in ${pg.dataDir})`);
  return pg.url;
}
// Scorer and alerter ports only serve /healthz and /metrics: pick free ones so
// pipelines (and replicas) can sit side by side. Everything else is identical.
const scorerPorts: number[] = [];
for (let i = 0; i < scorerCount; i++) {
  const from = (scorerPorts.at(-1) ?? collectorPort) + 1;
  scorerPorts.push(i === 0 && config.scorerPort ? config.scorerPort : await firstFreePort(from));
}
const alerterPorts: number[] = [];
for (let i = 0; i < alerterCount; i++) {
  const from = (alerterPorts.at(-1) ?? scorerPorts.at(-1)!) + 1;
  alerterPorts.push(i === 0 && config.alerterPort ? config.alerterPort : await firstFreePort(from));
}
const env = {
  ...process.env,
  REDIS_URL: redisUrl,
  GATEWAY_PORT: String(gatewayPort),
  COLLECTOR_PORT: String(collectorPort),
  // Every child stops by itself if we are killed without a chance to stop it
  // (supervisor-watch.ts), instead of running on, orphaned, holding its port.
  QUANTMON_SUPERVISOR_PID: String(process.pid),
  // Without probes of your own, the pipeline probes its own APIs, so the API
  // response time card shows a measured value from the first minute.
  PROBES:
    process.env['PROBES'] ??
    JSON.stringify([
      {
        name: 'gateway-summary',
        url: `http://127.0.0.1:${gatewayPort}/api/summary`,
        intervalMs: 5000,
      },
      {
        name: 'collector-health',
        url: `http://127.0.0.1:${collectorPort}/healthz`,
        intervalMs: 5000,
      },
    ]),
};
const supervisorPort = config.supervisorPort ?? (await firstFreePort(alerterPorts.at(-1)! + 1));
await serveSupervisorMetrics(supervisor, supervisorPort).catch((err: unknown) =>
  fail(`SUPERVISOR_PORT ${supervisorPort}: ${(err as Error).message}`),
);
// Every service sees the history database, or none (--no-history): never an inherited one.
if (databaseUrl) (env as NodeJS.ProcessEnv)['DATABASE_URL'] = databaseUrl;
else delete (env as NodeJS.ProcessEnv)['DATABASE_URL'];
run('collector', 'services/collector/src/main.ts', env);
scorerPorts.forEach((port, i) =>
  run(
    scorerCount > 1 ? `scorer-${i + 1}` : 'scorer',
    'services/scorer/src/main.ts',
    { ...env, SCORER_PORT: String(port) },
    scorerCount > 1,
  ),
);
alerterPorts.forEach((port, i) =>
  run(
    alerterCount > 1 ? `alerter-${i + 1}` : 'alerter',
    'services/alerter/src/main.ts',
    { ...env, ALERTER_PORT: String(port) },
    alerterCount > 1,
  ),
);
run('gateway', 'services/gateway/src/main.ts', env);
if (databaseUrl) {
  const port = await firstFreePort(8085);
  run('historian', 'services/historian/src/main.ts', { ...env, HISTORIAN_PORT: String(port) });
}

// Generous: on a loaded 2-core machine, transpiling and starting five
// services (and an embedded PostgreSQL's first run) took over 30 s.
const HEALTHY_WITHIN_MS = 90_000;
const healthDeadline = Date.now() + HEALTHY_WITHIN_MS;
const ok =
  (await waitHealthy(`http://127.0.0.1:${gatewayPort}/healthz`, HEALTHY_WITHIN_MS)) &&
  (await waitHealthy(
    `http://127.0.0.1:${collectorPort}/healthz`,
    Math.max(1_000, healthDeadline - Date.now()),
  ));
if (!ok) {
  say(`services did not become healthy within ${HEALTHY_WITHIN_MS / 1000} s`);
  await stop(1);
}
if (demo)
  run('demo', 'scripts/demo-feed.ts', {
    ...env,
    DEMO_COLLECTOR_URL: `http://127.0.0.1:${collectorPort}`,
  });
process.stdout.write(
  `\n  quantmon is running${demo ? ' with the DEMO feed (made-up strategies; --no-demo to turn it off)' : ''}\n` +
    `  dashboard:  http://localhost:${gatewayPort}/\n` +
    `  ingest:     POST http://localhost:${collectorPort}/v1/samples\n` +
    `  redis:      ${clusterNodes ? `Cluster ${clusterNodes}` : redisUrl}   (REDIS_URL for your workers and scripts)\n` +
    `  metrics:    collector :${collectorPort}, ${scorerPorts.map((p) => `scorer :${p}`).join(', ')}, ` +
    `${alerterPorts.map((p) => `alerter :${p}`).join(', ')}, gateway :${gatewayPort} (each /metrics and /healthz)\n` +
    `  restarts:   http://127.0.0.1:${supervisorPort}/metrics (npm start restarts a service that exits)\n` +
    `  history:    ${databaseUrl ? `PostgreSQL ${databaseUrl.replace(/\/\/[^@]*@/, '//')} (export and reports: /api/export, /api/report, npm run report)` : 'off (--no-history)'}\n` +
    `  state:      ${restored ?? 'a clean start (nothing restored from .quantmon/)'}\n` +
    `  Ctrl-C stops everything.\n\n`,
);
