/**
 * Gateway fan-out benchmark: one gateway process, 1,000 / 5,000 / 10,000
 * WebSocket clients held by a separate load process on loopback, score
 * updates, system samples and alerts written to Redis at a fixed rate.
 * Prints frames delivered per second, p50/p99 latency from the XADD to the
 * client, gateway memory per connection and gateway CPU; then, to judge
 * those figures, a diagnostics table: the gateway's own XADD-to-broadcast
 * delay and event-loop delay (from its /metrics), CPU of the load
 * processes, Redis, this orchestrator and the whole machine (from /proc),
 * and the load processes' event-loop delay (perf_hooks).
 *
 *   npm run bench:gateway
 *   npm run bench:gateway -- --clients 1000,5000,10000 --seconds 10 --scores 50 --alerts 2
 *   npm run bench:gateway -- --clients 10000 --load-procs 2
 *   npm run bench:gateway -- --partitions 1   (every stream in one partition)
 *   npm run bench:gateway -- --gateway-main /tmp/old/services/gateway/src/main.ts   (A/B)
 *
 * Everything is its own: a redis-server on a free port (never 6379), a fresh
 * gateway and load process per client count, all on 127.0.0.1. Bounded:
 * each step stops by itself and the whole run has a hard deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { encodeEntry, keysFor, partitionOf } from '@quantmon/shared';
import { freePort, spawnRedisServer } from '../scripts/local-redis.js';
import { Redis } from 'ioredis';
import { alertEvent, scoreUpdate, systemSample } from '../test/helpers/gateway-fixtures.js';
import { bucketQuantile, scrapeGateway } from './gateway-scrape.js';
import { cpuSeconds, cpuTimes, machineJiffies, rssKb } from './proc-stats.js';
import { killOnExit } from '../scripts/exit-reaper.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000,5000,10000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    scores: { type: 'string', default: '50' },
    alerts: { type: 'string', default: '2' },
    system: { type: 'string', default: '1' },
    strategies: { type: 'string', default: '50' },
    // The pipeline's partition count: the gateway follows 3 streams per partition.
    partitions: { type: 'string', default: '8' },
    // Load processes per row (default: one per 2,500 clients, at most 4).
    'load-procs': { type: 'string' },
    // Another gateway entry point, for A/B runs against a copy of an older tree.
    'gateway-main': { type: 'string', default: 'services/gateway/src/main.ts' },
  },
});
const ROOT = resolve(import.meta.dirname, '..');
const counts = args.clients.split(',').map(Number);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const rates = {
  scores: Number(args.scores),
  alerts: Number(args.alerts),
  system: Number(args.system),
};
const strategies = Number(args.strategies);
const partitions = Number(args.partitions);
const prefix = 'bench';
const keys = keysFor(prefix);
/** The partition streams entries go to, as the scorer, alerter and collector write them. */
const streamOf = {
  score: (strategy: string) => keys.partition(partitionOf(strategy, partitions)).scores,
  alert: (subject: string) =>
    keys.partition(partitionOf(subject.slice(subject.indexOf('/') + 1), partitions)).alerts,
  system: (host: string) => keys.partition(partitionOf(host, partitions)).systemSamples,
};
const deadline = setTimeout(
  () => {
    // The exit hook (scripts/exit-reaper.ts) kills the gateways, the load and Redis.
    process.stderr.write('bench: hard deadline passed, stopping\n');
    process.exit(1);
  },
  (counts.length * (seconds + warmup + 90) + 30) * 1000,
);
deadline.unref();

process.on('SIGINT', () => process.exit(130));

/** Spawn through bash to raise the open-files limit to the hard limit first. */
function spawnWithFds(cmd: string[], env: Record<string, string>): ChildProcess {
  const quoted = cmd.map((c) => `'${c.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)"; exec ${quoted}`], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  killOnExit(child);
  return child;
}

async function waitFor<T>(f: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lines(child: ChildProcess): AsyncIterator<string> {
  if (!child.stdout) throw new Error('no stdout');
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

async function nextJson(it: AsyncIterator<string>, event: string): Promise<Record<string, number>> {
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error(`load client ended before ${event}`);
    try {
      const o = JSON.parse(r.value) as { event?: string } & Record<string, number>;
      if (o.event === event) return o;
    } catch {
      // a log line
    }
  }
}

/** Write at a fixed rate, each entry stamped with its write time (ts) just before the XADD. */
function startWriter(redis: Redis): () => void {
  let acc = { scores: 0, alerts: 0, system: 0 };
  let i = 0;
  const tick = 20;
  const timer = setInterval(() => {
    acc = {
      scores: acc.scores + (rates.scores * tick) / 1000,
      alerts: acc.alerts + (rates.alerts * tick) / 1000,
      system: acc.system + (rates.system * tick) / 1000,
    };
    const tx = redis.pipeline();
    const now = Date.now();
    for (; acc.scores >= 1; acc.scores--, i++) {
      const u = scoreUpdate(`s${i % strategies}`, i, now);
      tx.xadd(streamOf.score(u.strategy), 'MAXLEN', '~', 100_000, '*', ...encodeEntry(u));
    }
    for (; acc.alerts >= 1; acc.alerts--, i++) {
      const a = alertEvent(i, {}, now);
      tx.xadd(streamOf.alert(a.subject), 'MAXLEN', '~', 100_000, '*', ...encodeEntry(a));
    }
    for (; acc.system >= 1; acc.system--, i++) {
      const s = systemSample('bench-host', i, now);
      tx.xadd(streamOf.system(s.host), 'MAXLEN', '~', 100_000, '*', ...encodeEntry(s));
    }
    if (tx.length > 0) void tx.exec();
  }, tick);
  return () => clearInterval(timer);
}

interface Row {
  clients: number;
  connected: number;
  framesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  kbPerConn: number;
  cpu: number;
  closed: number;
  /** Diagnostics: who else used the 2 cores, and how late each event loop ran. */
  gwSys: number;
  loadProcs: number;
  loadCpu: number;
  redisCpu: number;
  benchCpu: number;
  machineCpu: number;
  loadLoopP99: number;
  loadLoopMax: number;
  gwLoopP99: number;
  gwLoopMax: number;
  gwDelayP50: number;
  gwDelayP99: number;
}

async function step(redisUrl: string, redisPid: number, n: number): Promise<Row> {
  const port = await freePort();
  const gw = spawnWithFds([process.execPath, '--import', 'tsx', args['gateway-main']], {
    REDIS_URL: redisUrl,
    QUANTMON_PREFIX: prefix,
    PARTITIONS: String(partitions),
    GATEWAY_PORT: String(port),
    GATEWAY_ID: 'bench',
    LOG_LEVEL: 'warn',
  });
  await waitFor(
    async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined),
    30_000,
    'gateway',
  );
  const pid = gw.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssKb(pid);
  // Several load processes so the receiving side is not one busy event loop.
  const procs = args['load-procs'] ? Number(args['load-procs']) : Math.min(4, Math.ceil(n / 2500));
  const loads = Array.from({ length: procs }, (_, k) => {
    const share = Math.floor(n / procs) + (k < n % procs ? 1 : 0);
    const child = spawnWithFds(
      [
        process.execPath,
        '--import',
        'tsx',
        'bench/gateway-load-client.ts',
        '--url',
        `ws://127.0.0.1:${port}/ws`,
        '--clients',
        String(share),
        '--strategies',
        String(strategies),
      ],
      {},
    );
    return { child, out: lines(child) };
  });
  let connected = 0;
  for (const l of loads) connected += (await nextJson(l.out, 'ready'))['connected'] ?? 0;
  const redis = new Redis(redisUrl);
  const stopWriter = startWriter(redis);
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const loadPids = loads.map((l) => l.child.pid!);
  const sumCpu = (pids: number[]): number => pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const scrape0 = await scrapeGateway(port);
  const start = Date.now();
  const gw0 = cpuTimes(pid);
  const load0 = sumCpu(loadPids);
  const redis0 = cpuSeconds(redisPid);
  const bench0 = process.cpuUsage();
  const machine0 = machineJiffies();
  for (const l of loads) l.child.stdin?.write(`measure ${start}\n`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const gwEnd = cpuTimes(pid);
  const loadEnd = sumCpu(loadPids);
  const redisEnd = cpuSeconds(redisPid);
  const benchUsage = process.cpuUsage(bench0);
  const machineEnd = machineJiffies();
  const measuredFor = (Date.now() - start) / 1000;
  for (const l of loads) l.child.stdin?.write('report\n');
  const scrape1 = await scrapeGateway(port);
  const hist = new Map<number, number>();
  let frames = 0;
  let closed = 0;
  let loadLoopP99 = 0;
  let loadLoopMax = 0;
  for (const l of loads) {
    const rep = (await nextJson(l.out, 'report')) as unknown as {
      frames: number;
      closed: number;
      hist: [number, number][];
      loop: { p50: number; p99: number; max: number };
    };
    frames += rep.frames;
    closed += rep.closed;
    loadLoopP99 = Math.max(loadLoopP99, rep.loop.p99);
    loadLoopMax = Math.max(loadLoopMax, rep.loop.max);
    for (const [ms, c] of rep.hist) hist.set(ms, (hist.get(ms) ?? 0) + c);
  }
  const elapsed = (Date.now() - start) / 1000;
  const cpu = (gwEnd.user + gwEnd.sys - gw0.user - gw0.sys) / measuredFor;
  const rssAfter = rssKb(pid);
  stopWriter();
  for (const l of loads) l.child.stdin?.write('exit\n');
  await Promise.all(loads.map((l) => new Promise((r) => l.child.once('exit', r))));
  gw.kill('SIGTERM');
  await new Promise((r) => gw.once('exit', r));
  await redis.quit();
  const sorted = [...hist].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, [, c]) => a + c, 0);
  const quantile = (q: number): number => {
    let acc = 0;
    for (const [ms, c] of sorted) if ((acc += c) >= Math.ceil(q * total)) return ms;
    return sorted.at(-1)?.[0] ?? 0;
  };
  return {
    clients: n,
    connected,
    framesPerSec: frames / elapsed,
    p50: quantile(0.5),
    p99: quantile(0.99),
    max: quantile(1),
    kbPerConn: (rssAfter - rssBefore) / Math.max(1, connected),
    cpu: cpu * 100,
    closed,
    gwSys: ((gwEnd.sys - gw0.sys) / measuredFor) * 100,
    loadProcs: procs,
    loadCpu: ((loadEnd - load0) / measuredFor) * 100,
    redisCpu: ((redisEnd - redis0) / measuredFor) * 100,
    benchCpu: ((benchUsage.user + benchUsage.system) / 1e6 / measuredFor) * 100,
    // Busy share of all cores, in "% of one core" like the rest (2 cores: up to 200 %).
    machineCpu:
      ((machineEnd.busy - machine0.busy) / Math.max(1, machineEnd.total - machine0.total)) *
      100 *
      cpus,
    loadLoopP99,
    loadLoopMax,
    gwLoopP99: scrape1.loopP99,
    gwLoopMax: scrape1.loopMax,
    gwDelayP50: bucketQuantile(scrape0.delay, scrape1.delay, 0.5),
    gwDelayP99: bucketQuantile(scrape0.delay, scrape1.delay, 0.99),
  };
}

const redis = await spawnRedisServer({ persistence: 'none' });
const redisProc = redis.proc();
const redisUrl = redis.url;
const cpus = availableParallelism();

const expected = (n: number): number =>
  rates.scores * (n / strategies) + (rates.alerts + rates.system) * n;
console.log(
  `gateway fan-out: ${rates.scores} score updates/s over ${strategies} strategies, ${rates.alerts} alerts/s, ${rates.system} system samples/s; ` +
    `clients subscribe to alerts, system and one strategy; ${warmup} s warm-up, ${seconds} s measured per row`,
);
const rows: Row[] = [];
for (const n of counts) {
  const row = await step(redisUrl, redisProc.pid!, n);
  rows.push(row);
  console.log(`  ${n} clients done (expected ${Math.round(expected(n))} frames/s)`);
}
await redis.dispose();

const table = [
  [
    'clients',
    'connected',
    'frames/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'KiB/conn',
    'gateway CPU',
    'closed',
  ],
  ...rows.map((r) => [
    String(r.clients),
    String(r.connected),
    Math.round(r.framesPerSec).toLocaleString('en-US'),
    String(r.p50),
    String(r.p99),
    String(r.max),
    r.kbPerConn.toFixed(1),
    `${r.cpu.toFixed(0)} %`,
    String(r.closed),
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table) console.log(row.map((c, i) => c.padStart(widths[i]!)).join('  '));
console.log(
  'latency: XADD (entry ts) to client receipt, whole ms; CPU: gateway process, 100 % = one core',
);
console.log('');
const diag = [
  [
    'clients',
    'gw CPU (sys)',
    'gw XADD->bcast p50/p99 ms',
    'gw loop p99/max ms',
    'load procs',
    'load CPU',
    'load loop p99/max ms',
    'redis CPU',
    'bench CPU',
    `machine CPU (${cpus} cores)`,
  ],
  ...rows.map((r) => [
    String(r.clients),
    `${r.cpu.toFixed(0)} % (${r.gwSys.toFixed(0)} %)`,
    `${r.gwDelayP50.toFixed(0)} / ${r.gwDelayP99.toFixed(0)}`,
    `${r.gwLoopP99.toFixed(0)} / ${r.gwLoopMax.toFixed(0)}`,
    String(r.loadProcs),
    `${r.loadCpu.toFixed(0)} %`,
    `${r.loadLoopP99.toFixed(0)} / ${r.loadLoopMax.toFixed(0)}`,
    `${r.redisCpu.toFixed(0)} %`,
    `${r.benchCpu.toFixed(0)} %`,
    `${r.machineCpu.toFixed(0)} %`,
  ]),
];
const dw = diag[0]!.map((_, i) => Math.max(...diag.map((row) => row[i]!.length)));
for (const row of diag) console.log(row.map((c, i) => c.padStart(dw[i]!)).join('  '));
console.log(
  'gw XADD->bcast: gateway-side, XADD to the end of its broadcast loop (quantmon_gateway_entry_delay_seconds, bucket-interpolated); ' +
    'gw CPU (sys): all of it and its kernel share (on loopback a send also runs the receiving TCP stack); ' +
    'loop: event-loop delay (perf_hooks) of the gateway and of the worst load process; ' +
    'load CPU: all load processes together; machine CPU: every process on the box, other work included',
);
process.exit(0);
