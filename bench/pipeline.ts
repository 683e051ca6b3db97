/**
 * `npm run bench:pipeline`: the whole pipeline as `npm start --no-demo` runs
 * it (collector, scorer, alerter with its default rules, gateway; each with
 * N replicas where it has them), driven over HTTP, with 10 dashboards on
 * the gateway. The reference run for throughput (docs/performance.md).
 *
 * 1. Ceiling: pipelined XADD of the same sample JSON into an idle stream of
 *    the same Redis, before any load.
 * 2. Maximum: `--clients` clients post batches of `--batch` samples over
 *    `--strategies` strategies as fast as ingest accepts for `--seconds`;
 *    then the wait until the alerter has evaluated every score. Prints
 *    accepted and scored samples/s, the ratio to the ceiling, 429s, and CPU
 *    microseconds per sample of each process (from /proc).
 * 3. Half load: samples posted at half the scored rate; latency from the
 *    POST to the first score frame on a dashboard that includes the sample.
 * 4. Single samples: batch-of-one posts on keep-alive sockets, one at a
 *    time per socket and then HTTP-pipelined; then one sample per message
 *    on the collector's ingest socket (/v1/samples/ws), at the posts' depth
 *    and on four deep connections.
 *
 * `--sweep R1,R2,...` adds, after the half load, one paced phase per rate
 * (`--sweep-seconds` each, same shape as the half load) and prints latency
 * against offered rate with the cores the services used: where the
 * latency's knee is on the machine at hand.
 *
 * `--history` runs the historian too (as `npm start` does), on a database of
 * the bench's own (DATABASE_URL's server, else an embedded PostgreSQL), and
 * prints its rows per second and lag at the maximum and how long it took
 * to catch up after.
 *
 * The dashboards subscribe as the dashboard in the browser does: every
 * strategy, alerts and system, without score updates' `span` (`omit`);
 * `--full-frames` has them take the span too. `--dashboard-interval MS` paces
 * every dashboard but the first (subscribe's `intervalMs`, as a wallboard
 * would); the first, which records the latency, always takes every frame.
 *
 * `--warmup-seconds N` sends the half load's rate for N s before the half
 * load and measures none of it. A new scorer takes its first 22-26 s under
 * 20,000 samples/s to have its code optimised, running up to a second
 * behind with full reads meanwhile; with `--seconds 0` (no maximum before
 * the half load) the half load and sweeps would measure that instead of
 * the steady state: 30 is enough on the hosts measured (docs/performance.md,
 * "twenty-ninth session").
 *
 * `--replicas N` runs N scorers and N alerters; `--profile DIR` profiles
 * every service (bench/cpu-profile-preload.mjs) and leaves .cpuprofile
 * files in DIR (summarise them with bench/cpuprofile-summary.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_FIELD, GROUPS, keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer } from '../scripts/local-redis.js';
import { waitPartitionsDrained } from '../test/helpers/streams.js';
import { childCpuSeconds, cpuSeconds, ROOT } from './collector-support.js';
import { describeMachine, machineTimes, schedStats, type SchedStats } from './proc-stats.js';
import { ask, child, healthy, servicesOf, stopOnExit, waitLeased } from './pipeline-procs.js';
import type { DashboardsReport } from './pipeline-dashboards.js';
import type { LoadOrder, LoadReply } from './pipeline-load.js';
import { latencies, p99Outside, percentile } from './pipeline-latency.js';
import { describeGcPauses } from './gc-pauses.js';
import { describeGoals, judgeGoals } from './pipeline-goals.js';
import { describeSpans, secondsTouched, watchAofRewrites } from './aof-rewrite-watch.js';
import { describeHost, probeHost } from './host-probe.js';
import * as hist from './pipeline-history.js';
import {
  commandDelta,
  commandStats,
  describePauses,
  entriesAdded,
  redisPauses,
  watchRedisPauses,
} from './pipeline-redis.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '4' },
    batch: { type: 'string', default: '500' },
    strategies: { type: 'string', default: '100' },
    dashboards: { type: 'string', default: '10' },
    replicas: { type: 'string', default: '1' },
    'half-seconds': { type: 'string', default: '10' },
    /** Seconds at the half load's rate before it, not measured (the scorer's warm-up). */
    'warmup-seconds': { type: 'string', default: '0' },
    /** Samples/s of the latency phase; default half the scored rate. */
    'half-rate': { type: 'string' },
    /** POSTs per second in the latency phase (the rate split into batches of rate / posts). */
    'half-posts': { type: 'string', default: '200' },
    'single-seconds': { type: 'string', default: '8' },
    /** Rates (samples/s) for latency by load, after the half load: "2000,4000,8000". */
    sweep: { type: 'string' },
    'sweep-seconds': { type: 'string', default: '10' },
    'ceiling-samples': { type: 'string', default: '200000' },
    profile: { type: 'string' },
    /** Log every service's GC pauses of 3 ms or more to this file, and print them per phase. */
    'gc-log': { type: 'string' },
    history: { type: 'boolean', default: false },
    /** Dashboards take score updates with their span (by default they omit it, as the dashboard does). */
    'full-frames': { type: 'boolean', default: false },
    /** Every dashboard but the one that records latency subscribes with this `intervalMs` (paced screens). */
    'dashboard-interval': { type: 'string', default: '0' },
  },
});
const num = (k: keyof typeof a): number => Number(a[k]);
// `--seconds 0` skips the maximum (to profile or time the half load alone): its rate must be given.
if (num('seconds') === 0 && !a['half-rate']) {
  console.error('bench:pipeline: --seconds 0 skips the maximum phase; give --half-rate');
  process.exit(2);
}
if (!(num('warmup-seconds') >= 0)) {
  console.error(
    `bench:pipeline: --warmup-seconds "${a['warmup-seconds']}" is not a number of seconds`,
  );
  process.exit(2);
}
const sweepRates = (a.sweep ?? '')
  .split(',')
  .filter((x) => x.trim() !== '')
  .map((x) => {
    const r = Number(x);
    if (!Number.isFinite(r) || r <= 0) {
      console.error(`bench:pipeline: --sweep "${x}" is not a rate in samples/s`);
      process.exit(2);
    }
    return r;
  });
const replicas = num('replicas');
const prefix = 'quantmon';
const keys = keysFor(prefix);

/** One paced phase of `--sweep`: CPU in seconds over the phase and its drain. */
interface SweepRow {
  rate: number;
  lat: ReturnType<typeof latencies>;
  accepted: number;
  seconds: number;
  /** Without Redis's AOF rewrite children (`rewrite`). */
  services: number;
  rewrite: number;
  byProcess: { name: string; seconds: number }[];
  drivers: number;
  updates: number;
  /** Run-queue waits over the phase and its drain, every process then the drivers. */
  waits: string;
  /** The machine's busy, idle and stolen time over the same span. */
  machine: string;
  /** With --gc-log: each process's GC pauses of 3 ms or more over the same span. */
  gc: string | undefined;
}

/**
 * Time each process's main thread spent ready to run but waiting for a
 * core, per second of the phase (and its drain), per time it was put on
 * one, how often a core was taken from it mid-work, and how often any
 * of its threads slept and woke (the cost that follows the read beat at
 * moderate rates, not the samples). On two
 * cores shared by five services and the bench, this is the queueing that
 * CPU seconds do not show: a wake that waits for a core delays every
 * sample it carries.
 */
function describeWaits(
  names: readonly string[],
  s0: readonly SchedStats[],
  s1: readonly SchedStats[],
  seconds: number,
): string {
  return names
    .map((name, i) => {
      const wait = (s1[i]!.waitNs - s0[i]!.waitNs) / 1e6;
      const runs = s1[i]!.runs - s0[i]!.runs;
      const preempted = (s1[i]!.preempted - s0[i]!.preempted) / seconds;
      const wakes = (s1[i]!.wakes - s0[i]!.wakes) / seconds;
      return `${name} ${(wait / seconds).toFixed(0)} (${runs ? ((wait * 1000) / runs).toFixed(0) : '-'}; ${preempted.toFixed(0)}/s; ${wakes.toFixed(0)}/s)`;
    })
    .join(', ');
}

/**
 * Latency by offered rate. "steady p99" is the median over the phase's
 * seconds of each second's p99, leaving out the first second (the rate's
 * start-up); "worst second" is the largest. Cores are CPU seconds over the
 * phase's seconds (the drain after it is included, so a phase that falls
 * behind shows more); Redis's AOF rewrite children are left out of them.
 */
function printSweep(rows: SweepRow[]): void {
  const f0 = (x: number): string => Math.round(x).toLocaleString('en-US');
  const f1 = (x: number): string => x.toFixed(1);
  const f2 = (x: number): string => x.toFixed(2);
  console.log(
    `\nlatency by offered rate (POST -> score frame, ms; ${num('half-posts')} POSTs/s, ${num('sweep-seconds')} s each):`,
  );
  console.log(
    `  ${'rate /s'.padStart(8)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'steady p99'.padStart(11)} ${'worst second'.padStart(13)} ` +
      `${'updates/sample'.padStart(15)} ${'services µs/sample'.padStart(19)} ${'services cores'.padStart(15)} ${'bench cores'.padStart(12)}`,
  );
  for (const r of rows) {
    const p99s = r.lat.perSecond
      .slice(1)
      .map((x) => x.p99)
      .sort((x, y) => x - y);
    const steady = p99s.length ? p99s[Math.floor((p99s.length - 1) / 2)]! : NaN;
    const worst = Math.max(...r.lat.perSecond.map((x) => x.p99));
    console.log(
      `  ${f0(r.rate).padStart(8)} ${f1(percentile(r.lat.ms, 0.5)).padStart(7)} ${f1(percentile(r.lat.ms, 0.99)).padStart(7)} ` +
        `${f1(steady).padStart(11)} ${f1(worst).padStart(13)} ${(r.updates / r.accepted).toFixed(3).padStart(15)} ` +
        `${f1((r.services * 1e6) / r.accepted).padStart(19)} ${f2(r.services / r.seconds).padStart(15)} ${f2(r.drivers / r.seconds).padStart(12)}`,
    );
  }
  console.log('  services µs per sample by process:');
  for (const r of rows) {
    console.log(
      `  ${f0(r.rate).padStart(8)}  ` +
        r.byProcess.map((p) => `${p.name} ${f1((p.seconds * 1e6) / r.accepted)}`).join(', ') +
        ` (AOF rewrite children, not counted above: ${f1((r.rewrite * 1e6) / r.accepted)})`,
    );
  }
  console.log(
    '  waiting for a core, ms per s of the phase (µs per run; preemptions per s; wakes per s, every thread), by process:',
  );
  for (const r of rows) console.log(`  ${f0(r.rate).padStart(8)}  ${r.waits}`);
  console.log("  the machine's two cores, by rate:");
  for (const r of rows) console.log(`  ${f0(r.rate).padStart(8)}  ${r.machine}`);
  if (rows.some((r) => r.gc !== undefined)) {
    console.log('  GC pauses of 3 ms or more (count: median / longest / total ms), by rate:');
    for (const r of rows) console.log(`  ${f0(r.rate).padStart(8)}  ${r.gc ?? ''}`);
  }
  console.log(
    '  every sample, p50 / p99 ms: POST to scored (its wait for a read included) | scored to frame:',
  );
  for (const r of rows) {
    const { toScored, fromScored } = r.lat.split;
    console.log(
      `  ${f0(r.rate).padStart(8)}  ${f1(percentile(toScored, 0.5))} / ${f1(percentile(toScored, 0.99))} | ` +
        `${f1(percentile(fromScored, 0.5))} / ${f1(percentile(fromScored, 0.99))}`,
    );
  }
  console.log('  p99 by second of the phase (ms):');
  for (const r of rows) {
    console.log(`  ${f0(r.rate).padStart(8)}  ${r.lat.perSecond.map((x) => f0(x.p99)).join(' ')}`);
  }
}

/** Pipelined XADD of `n` copies of `json` into an idle stream: samples/s. */
async function xaddCeiling(redis: Redis, json: string, n: number): Promise<number> {
  const key = 'bench:ceiling';
  await redis.del(key);
  const t0 = performance.now();
  for (let done = 0; done < n; done += 1000) {
    const p = redis.pipeline();
    for (let i = 0; i < 1000; i++) p.xadd(key, '*', DATA_FIELD, json);
    await p.exec();
  }
  const rate = n / ((performance.now() - t0) / 1000);
  await redis.del(key);
  return rate;
}

/** Wait until dashboard 0 has the newest score entry of every partition (its backlog is gone). */
async function dashboardsCaughtUp(d: ChildProcess, partitions: number): Promise<void> {
  const end = Date.now() + 120_000;
  for (;;) {
    const { positions } = await ask<{ positions: Record<number, string> }>(
      d,
      { type: 'positions' },
      'positions',
    );
    let behind = 0;
    for (let p = 0; p < partitions; p++) {
      const newest = (await redis.xrevrange(keys.partition(p).scores, '+', '-', 'COUNT', 1))[0];
      if (newest && positions[p] !== newest[0]) behind++;
    }
    if (behind === 0) return;
    if (Date.now() > end) throw new Error(`dashboards still behind on ${behind} partitions`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ── run ──────────────────────────────────────────────────────────────────
// The host's speed before anything runs, and again after the last phase.
const hostAtStart = probeHost();
// Its own folder, removed by dispose() or, if the bench dies first, when it exits.
// Detached, as npm start runs its own (its own session, so its own scheduling
// group under autogroup); reaped all the same if the bench dies.
const redisServer = await spawnRedisServer({
  persistence: 'aof-everysec',
  detached: true,
  reapOnExit: true,
});
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
const gatewayPort = await freePort();
const collectorPort = await freePort();
const profileDir = a.profile ? resolve(a.profile) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const history = a.history ? await hist.startBenchHistory() : undefined;
const gcLog = a['gc-log'] ? resolve(a['gc-log']) : undefined;
if (gcLog) rmSync(gcLog, { force: true });
const preloads = [
  ...(profileDir ? [join(ROOT, 'bench', 'cpu-profile-preload.mjs')] : []),
  ...(gcLog ? [join(ROOT, 'bench', 'gc-pause-preload.mjs')] : []),
];
const startArgs = ['--import', 'tsx', 'scripts/start.ts', '--no-demo'];
if (!history) startArgs.push('--no-history');
if (replicas > 1) startArgs.push('--scorers', String(replicas), '--alerters', String(replicas));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  REDIS_URL: redisServer.url,
  GATEWAY_PORT: String(gatewayPort),
  COLLECTOR_PORT: String(collectorPort),
  LOG_LEVEL: 'warn',
  ...(history ? { DATABASE_URL: history.url } : {}),
  ...(profileDir ? { QUANTMON_CPU_PROFILE_DIR: profileDir } : {}),
  ...(gcLog ? { QUANTMON_GC_LOG: gcLog } : {}),
  ...(preloads.length ? { NODE_OPTIONS: preloads.map((f) => `--import ${f}`).join(' ') } : {}),
};
const start = child(startArgs, env, false);
start.stdout?.resume();
let load: ChildProcess | undefined;
let dashboards: ChildProcess | undefined;
stopOnExit(start, () => [load, dashboards]);

async function cleanup(): Promise<void> {
  load?.kill('SIGKILL');
  dashboards?.kill('SIGKILL');
  if (start.exitCode === null) {
    const gone = new Promise((r) => start.once('exit', r));
    start.kill('SIGINT');
    await gone;
  }
  redis.disconnect();
  await history?.dispose();
  await redisServer.dispose();
}

try {
  // Generous: on a 2-core machine shared with other work the services took over 60 s to start.
  await healthy(`http://127.0.0.1:${gatewayPort}/healthz`, 180_000);
  await healthy(`http://127.0.0.1:${collectorPort}/healthz`, 180_000);
  const partitions = Number(await redis.get(keys.partitionCount));
  await waitLeased(redis, keys, partitions);
  const procs = [...servicesOf(start.pid!), { name: 'redis', pid: redisServer.proc().pid! }];
  if (profileDir) console.log(`profiling: ${procs.map((p) => `${p.name}=${p.pid}`).join(' ')}`);
  const sampleJson = JSON.stringify({
    strategy: 'strat-1',
    ts: 1_767_225_601_000,
    return: 0.0012,
    benchmarkReturn: -0.0031,
    equity: 1_000_001,
    id: '1:1',
    receivedAt: Date.now(),
  });
  const ceiling = await xaddCeiling(redis, sampleJson, num('ceiling-samples'));

  load = child(['--import', 'tsx', 'bench/pipeline-load.ts'], { ...process.env });
  dashboards = child(
    [
      '--import',
      'tsx',
      'bench/pipeline-dashboards.ts',
      `ws://127.0.0.1:${gatewayPort}/ws`,
      String(num('dashboards')),
      a['full-frames'] ? 'full' : 'lean',
      String(num('dashboard-interval')),
    ],
    { ...process.env },
  );
  const ready = await ask<{ connected: number }>(dashboards, undefined, 'ready');
  const ingest = `http://127.0.0.1:${collectorPort}/v1/samples`;
  const ingestSocket = `ws://127.0.0.1:${collectorPort}/v1/samples/ws`;
  const strategies = num('strategies');
  /** `rate` samples/s for `seconds`, in `--half-posts` POSTs a second: the latency phases' load. */
  const pacedPhase = (rate: number, seconds: number) =>
    ask<Extract<LoadReply, { type: 'paced' }>>(
      load!,
      {
        type: 'paced',
        url: ingest,
        rate,
        batch: Math.max(1, Math.round(rate / num('half-posts'))),
        strategies,
        seconds,
      } satisfies LoadOrder,
      'paced',
    );
  /** The last paced phase's send times: asked for once its frames have all arrived. */
  const sendTimes = async (): Promise<number[]> =>
    (
      await ask<Extract<LoadReply, { type: 'sends' }>>(
        load!,
        { type: 'sends' } satisfies LoadOrder,
        'sends',
      )
    ).sends;
  const drained = async (): Promise<void> => {
    await waitPartitionsDrained(redis, keys, partitions, 'strategySamples', GROUPS.scorer, 600_000);
    await waitPartitionsDrained(redis, keys, partitions, 'scores', GROUPS.alerter, 600_000);
  };

  // 2. maximum
  await redis.config('RESETSTAT');
  const scoreStreams = Array.from({ length: partitions }, (_, p) => keys.partition(p).scores);
  const maxUpdates0 = await entriesAdded(redis, scoreStreams);
  const cpu0 = procs.map((p) => cpuSeconds(p.pid));
  // The bench's own processes share the two cores: shown, not counted.
  const driverPids = [load.pid!, dashboards.pid!];
  const driverCpu0 = driverPids.map(cpuSeconds);
  const redisPid = redisServer.proc().pid!;
  const rewriteCpu0 = childCpuSeconds(redisPid);
  const h0 = history && (await hist.historianProgress(redis, keys, partitions));
  const pg0 = hist.postgresCpu(history?.postmaster);
  const watch = history && hist.watchHistorian(redis, keys, partitions);
  const t0 = performance.now();
  const max = await ask<Extract<LoadReply, { type: 'max' }>>(
    load,
    {
      type: 'max',
      url: ingest,
      clients: num('clients'),
      batch: num('batch'),
      strategies,
      seconds: num('seconds'),
    } satisfies LoadOrder,
    'max',
  );
  await drained();
  const scoredSeconds = (performance.now() - t0) / 1000;
  const cpu1 = procs.map((p) => cpuSeconds(p.pid));
  const driverCpu1 = driverPids.map(cpuSeconds);
  const rewriteCpu1 = childCpuSeconds(redisPid);
  const scoredRate = max.accepted / scoredSeconds;
  const maxUpdates = (await entriesAdded(redis, scoreStreams)) - maxUpdates0;
  const commands = commandStats(await redis.info('commandstats'));
  const h1 = history && (await hist.historianProgress(redis, keys, partitions));
  const pg1 = hist.postgresCpu(history?.postmaster);
  const lag = await watch?.stop();
  const catchUp = history ? await hist.historianDrained(redis, keys, partitions, 600_000) : 0;

  // 3. half load, once the dashboards have seen every score written so far
  const halfRate = a['half-rate'] ? num('half-rate') : Math.max(100, Math.round(scoredRate / 2));
  if (num('warmup-seconds') > 0) {
    // The load keeps only its last paced phase's send times: these go unmeasured.
    await pacedPhase(halfRate, num('warmup-seconds'));
    await drained();
  }
  await dashboardsCaughtUp(dashboards, partitions);
  await ask(dashboards, { type: 'record' }, 'recording');
  const pauses0 = await watchRedisPauses(redis, 5);
  const halfCpu0 = procs.map((p) => cpuSeconds(p.pid));
  const halfDriverCpu0 = driverPids.map(cpuSeconds);
  const halfRewriteCpu0 = childCpuSeconds(redisPid);
  const halfCommands0 = commandStats(await redis.info('commandstats'));
  const halfUpdates0 = await entriesAdded(redis, scoreStreams);
  const allPids = [...procs.map((p) => p.pid), ...driverPids];
  const allNames = [...procs.map((p) => p.name), 'load', 'dashboards'];
  const halfSched0 = allPids.map(schedStats);
  const halfMachine0 = machineTimes();
  const halfT0 = performance.now();
  const halfFrom = Date.now();
  const rewriteWatch = watchAofRewrites(redis);
  const paced = await pacedPhase(halfRate, num('half-seconds'));
  await drained();
  const halfTo = Date.now();
  const halfRewrites = await rewriteWatch.stop();
  const halfWaits = describeWaits(
    allNames,
    halfSched0,
    allPids.map(schedStats),
    (performance.now() - halfT0) / 1000,
  );
  const halfMachine = describeMachine(halfMachine0, machineTimes());
  const halfCpu1 = procs.map((p) => cpuSeconds(p.pid));
  const halfDriverCpu1 = driverPids.map(cpuSeconds);
  const halfRewriteCpu1 = childCpuSeconds(redisPid);
  const halfCommands = commandDelta(halfCommands0, commandStats(await redis.info('commandstats')));
  const pauses1 = await redisPauses(redis);
  const halfUpdates = (await entriesAdded(redis, scoreStreams)) - halfUpdates0;
  await new Promise((r) => setTimeout(r, 1000));
  const report = await ask<DashboardsReport>(dashboards, { type: 'report' }, 'report');
  const lat = latencies(await sendTimes(), report.arrivals);
  // The seconds an AOF rewrite touched, and the p99 of the others (printed beside the phase's).
  const touched = secondsTouched(halfRewrites, lat.firstSentAt, lat.bySecond.length);
  const outside =
    touched.size > 0
      ? { ...p99Outside(lat.bySecond, touched), seconds: lat.bySecond.length - touched.size }
      : undefined;

  // 3b. latency by offered rate (--sweep)
  const sweep: SweepRow[] = [];
  for (const rate of sweepRates) {
    await dashboardsCaughtUp(dashboards, partitions);
    await ask(dashboards, { type: 'record' }, 'recording');
    const c0 = procs.map((p) => cpuSeconds(p.pid));
    const d0 = driverPids.map(cpuSeconds);
    const w0 = childCpuSeconds(redisPid);
    const u0 = await entriesAdded(redis, scoreStreams);
    const sched0 = allPids.map(schedStats);
    const m0 = machineTimes();
    const t0 = performance.now();
    const from = Date.now();
    const r = await pacedPhase(rate, num('sweep-seconds'));
    await drained();
    const gc = gcLog ? describeGcPauses(gcLog, from, Date.now()) : undefined;
    const waits = describeWaits(
      allNames,
      sched0,
      allPids.map(schedStats),
      (performance.now() - t0) / 1000,
    );
    const machine = describeMachine(m0, machineTimes());
    const c1 = procs.map((p) => cpuSeconds(p.pid));
    const d1 = driverPids.map(cpuSeconds);
    // AOF rewrites are forked children, counted when they exit: what a
    // rewrite costs depends on the whole dataset (the maximum's samples),
    // not on this rate, so it is shown apart.
    const rewrite = childCpuSeconds(redisPid) - w0;
    const updates = (await entriesAdded(redis, scoreStreams)) - u0;
    await new Promise((res) => setTimeout(res, 1000));
    const rep = await ask<DashboardsReport>(dashboards, { type: 'report' }, 'report');
    sweep.push({
      rate,
      lat: latencies(await sendTimes(), rep.arrivals),
      accepted: r.accepted,
      seconds: r.seconds,
      services: c1.reduce((x, v, i) => x + v - c0[i]!, 0) - rewrite,
      rewrite,
      byProcess: procs.map((p, i) => ({
        name: p.name,
        seconds: c1[i]! - c0[i]! - (p.pid === redisPid ? rewrite : 0),
      })),
      drivers: d1.reduce((x, v, i) => x + v - d0[i]!, 0),
      updates,
      waits,
      machine,
      gc,
    });
  }

  // 4. single samples, one request at a time per socket, then pipelined, then over the ingest socket
  const singles: {
    label: string;
    transport: 'http' | 'socket';
    r: Extract<LoadReply, { type: 'single' }>;
    /** CPU seconds of every process (procs' order) and of the drivers over the phase and its drain. */
    cpu: number[];
    drivers: number[];
    commands: ReturnType<typeof commandDelta>;
    /** Redis's forks, rewrites and latency events over the phase, and its rewrite children's CPU. */
    pauses: string;
    rewrite: number;
  }[] = [];
  // `--single-seconds 0` skips them (a zero-length phase would print a tick's CPU as figures).
  const singleShapes = [
    [16, 1, 'http'],
    [16, 16, 'http'],
    // A few deep connections, as the ingest socket's last shape: with the
    // collector's fast path (fast-http.ts) a post costs it what a message does.
    [4, 256, 'http'],
    // The ingest socket: the same depth as the posts, then a few deep connections.
    [16, 16, 'socket'],
    [4, 256, 'socket'],
  ] as const;
  for (const [connections, depth, transport] of num('single-seconds') > 0 ? singleShapes : []) {
    const c0 = procs.map((p) => cpuSeconds(p.pid));
    const d0 = driverPids.map(cpuSeconds);
    const commands0 = commandStats(await redis.info('commandstats'));
    const pausesBefore = await watchRedisPauses(redis, 5);
    const rewriteBefore = childCpuSeconds(redisPid);
    const single = {
      transport,
      label:
        transport === 'http'
          ? `batch of 1, ${connections} keep-alive sockets, ${depth} in flight each`
          : `1 sample per message, ${connections} ingest sockets (/v1/samples/ws), ${depth} in flight each`,
      r: await ask<Extract<LoadReply, { type: 'single' }>>(
        load,
        {
          type: 'single',
          url: transport === 'http' ? ingest : ingestSocket,
          transport,
          connections,
          depth,
          strategies,
          seconds: num('single-seconds'),
        } satisfies LoadOrder,
        'single',
      ),
    };
    await drained();
    singles.push({
      ...single,
      cpu: procs.map((p, i) => cpuSeconds(p.pid) - c0[i]!),
      drivers: driverPids.map((pid, i) => cpuSeconds(pid) - d0[i]!),
      commands: commandDelta(commands0, commandStats(await redis.info('commandstats'))),
      pauses: describePauses(pausesBefore, await redisPauses(redis), single.r.accepted),
      rewrite: childCpuSeconds(redisPid) - rewriteBefore,
    });
  }
  const final = await ask<DashboardsReport>(dashboards, { type: 'report' }, 'report');
  const hostAtEnd = probeHost();

  // ── report ─────────────────────────────────────────────────────────────
  const f0 = (x: number): string => Math.round(x).toLocaleString('en-US');
  const f1 = (x: number): string => x.toFixed(1);
  const accepted = max.accepted / max.seconds;
  console.log(
    `\nbench:pipeline  ${partitions} partitions, ${replicas} scorer and ${replicas} alerter replica(s), ` +
      `${ready.connected} dashboards (${a['full-frames'] ? 'score updates with span' : 'span omitted'}` +
      `${num('dashboard-interval') > 0 ? `; all but the first paced at ${num('dashboard-interval')} ms` : ''}), ` +
      `${strategies} strategies, ${num('clients')} clients x batches of ${num('batch')}\n`,
  );
  console.log(`host at the start: ${describeHost(hostAtStart)}`);
  console.log(`host at the end:   ${describeHost(hostAtEnd)}\n`);
  console.log(`ceiling (pipelined XADD, same JSON, idle stream)  ${f0(ceiling)} samples/s`);
  // Redis's AOF rewrites run in forked children; their CPU is in Redis's figure once they exit.
  const rewriteUs = (c0: number, c1: number, n: number): string =>
    `of Redis's, ${f1(((c1 - c0) * 1e6) / n)} in AOF rewrite children (counted when they exit)`;
  const driverUs = (d0: number[], d1: number[], n: number): string =>
    ['load', 'dashboards']
      .map((name, i) => `${name} ${f1(((d1[i]! - d0[i]!) * 1e6) / n)}`)
      .join(', ');
  // `--seconds 0` skips the maximum (a half-load or sweep run alone): nothing to divide by.
  let total = 0;
  if (max.accepted === 0) {
    console.log('maximum                                           skipped (--seconds 0)');
  } else {
    console.log(
      `accepted                                          ${f0(accepted)} samples/s  (${f0(max.accepted)} in ${f1(max.seconds)} s, ${max.status429} answers 429)`,
    );
    console.log(
      `scored (until the alerter caught up)              ${f0(scoredRate)} samples/s  (${f1(scoredSeconds)} s)`,
    );
    console.log(
      `ratio scored / ceiling                            ${(scoredRate / ceiling).toFixed(3)}`,
    );
    console.log(
      `score updates written                             ${f0(maxUpdates)}: ${(maxUpdates / max.accepted).toFixed(3)} per sample`,
    );
    console.log('\nCPU per sample at maximum (µs, from /proc):');
    procs.forEach((p, i) => {
      const us = ((cpu1[i]! - cpu0[i]!) * 1e6) / max.accepted;
      total += us;
      console.log(`  ${p.name.padEnd(14)} ${f1(us).padStart(7)}`);
    });
    console.log(`  ${'total'.padEnd(14)} ${f1(total).padStart(7)}`);
    console.log(`  (${rewriteUs(rewriteCpu0, rewriteCpu1, max.accepted)})`);
    console.log(
      `  (the bench's own processes, not counted: ${driverUs(driverCpu0, driverCpu1, max.accepted)})`,
    );
    if (h0 && h1 && lag) {
      console.log(
        `\nhistorian at maximum: ${f0((h1.committed - h0.committed) / scoredSeconds)} entries/s committed ` +
          `(${f0(h1.committed - h0.committed)} in ${f1(scoredSeconds)} s), largest lag ${f0(lag.maxLeft)} entries, ` +
          `${f0(h1.left)} left when the alerter caught up, all written ${f1(catchUp)} s later; ` +
          `PostgreSQL ${f1(((pg1 - pg0) * 1e6) / max.accepted)} µs CPU per sample`,
      );
    }
    console.log('\nRedis time per sample at maximum, by command (µs, INFO commandstats):');
    for (const c of commands.slice(0, 8)) {
      console.log(
        `  ${c.name.padEnd(22)} ${f1(c.usec / max.accepted).padStart(7)}  (${f0(c.calls)} calls, ${f1(c.usec / c.calls)} µs each)`,
      );
    }
  }
  if (num('warmup-seconds') > 0) {
    console.log(
      `\nwarm-up ${num('warmup-seconds')} s at the half load's rate before it (not measured)`,
    );
  }
  console.log(
    `\nhalf load ${f0(halfRate)} samples/s for ${f1(paced.seconds)} s: POST -> score frame ` +
      `p50 ${f1(percentile(lat.ms, 0.5))} ms, p99 ${f1(percentile(lat.ms, 0.99))} ms, ` +
      `max ${f1(percentile(lat.ms, 1))} ms (${f0(lat.ms.length)} samples, ${lat.missing} never shown` +
      // A 429 or 503 is retried 100 ms later, from the same send time: it shows in the latency.
      `${paced.status429 ? `, ${paced.status429} answers 429` : ''}${paced.other ? `, ${paced.other} other errors` : ''})`,
  );
  console.log(
    `  by stage, p50 / p99 ms (samples shown by their own frame): ` +
      Object.entries(lat.stages)
        .map(([k, v]) => `${k} ${f1(percentile(v, 0.5))} / ${f1(percentile(v, 0.99))}`)
        .join(', '),
  );
  console.log(
    `  every sample, p50 / p99 ms: POST to scored (its wait for a read included) ` +
      `${f1(percentile(lat.split.toScored, 0.5))} / ${f1(percentile(lat.split.toScored, 0.99))}, ` +
      `scored to frame ${f1(percentile(lat.split.fromScored, 0.5))} / ${f1(percentile(lat.split.fromScored, 0.99))}`,
  );
  const sl = lat.slowest;
  const p50p90 = (xs: readonly number[]): string =>
    `${f1(percentile(xs, 0.5))} / ${f1(percentile(xs, 0.9))}`;
  console.log(
    `  the slowest 1 % (${f0(sl.n)} samples), p50 / p90 ms: sent after its strategy's update ` +
      `before the one that showed it ${p50p90(sl.sincePrevious)} (negative: sent before it, ` +
      `and missed its read), POST to scored ${p50p90(sl.toScored)}, scored to written ` +
      `${p50p90(sl.write)}, written to frame ${p50p90(sl.deliver)}`,
  );
  console.log(
    `  p50 / p99 by second of the phase (ms): ` +
      lat.perSecond.map((x) => `${f0(x.p50)}/${f0(x.p99)}`).join('  '),
  );
  console.log(
    `  CPU per sample at half load (µs): ` +
      procs
        .map((p, i) => `${p.name} ${f1(((halfCpu1[i]! - halfCpu0[i]!) * 1e6) / paced.accepted)}`)
        .join(', ') +
      ` (${rewriteUs(halfRewriteCpu0, halfRewriteCpu1, paced.accepted)}; not counted: ${driverUs(halfDriverCpu0, halfDriverCpu1, paced.accepted)})`,
  );
  console.log(
    `  score updates written ${f0(halfUpdates)}: ${(halfUpdates / paced.accepted).toFixed(3)} per sample ` +
      `(1 = no conflation)`,
  );
  console.log(
    `  Redis time per sample at half load, by command (µs): ` +
      halfCommands
        .slice(0, 8)
        .map((c) => `${c.name} ${f1(c.usec / paced.accepted)} (${f1(c.usec / c.calls)} each)`)
        .join(', '),
  );
  console.log(`  Redis during the phase: ${describePauses(pauses0, pauses1, paced.accepted)}`);
  if (outside) {
    console.log(
      `  AOF rewrites ${describeSpans(halfRewrites, lat.firstSentAt)} of the phase; ` +
        `the ${outside.seconds} s they did not touch (seconds ${[...touched].sort((x, y) => x - y).join(', ')} left out): ` +
        `p99 ${f1(outside.p99)} ms (${f0(outside.n)} samples)`,
    );
  }
  console.log(
    `  waiting for a core, ms per s of the phase (µs per run; preemptions per s; wakes per s, every thread): ${halfWaits}`,
  );
  console.log(`  the machine's two cores during the phase: ${halfMachine}`);
  if (gcLog) {
    console.log(
      `  GC pauses of 3 ms or more (count: median / longest / total ms): ${describeGcPauses(gcLog, halfFrom, halfTo)}`,
    );
  }
  if (sweep.length > 0) printSweep(sweep);
  for (const { label, r, cpu, drivers, commands, pauses, rewrite } of singles) {
    console.log(
      `${label}: ${f0(r.accepted / r.seconds)} samples/s, answer p50 ${f1(r.latencyMs.p50)} ms, p99 ${f1(r.latencyMs.p99)} ms` +
        `${r.status429 ? `, ${r.status429} answers 429` : ''}${r.other ? `, ${r.other} other errors` : ''}`,
    );
    if (r.accepted === 0) continue;
    // Where a single-sample post's CPU goes: the collector's HTTP, or the rest of the pipeline.
    console.log(
      `  CPU per sample (µs): ` +
        procs.map((p, i) => `${p.name} ${f1((cpu[i]! * 1e6) / r.accepted)}`).join(', ') +
        ` (${rewriteUs(0, rewrite, r.accepted)}; not counted: ${driverUs([0, 0], drivers, r.accepted)})`,
    );
    // How many samples each ingest script call carried: the group commit's share of Redis's cost.
    console.log(
      `  Redis time per sample, by command (µs): ` +
        commands
          .slice(0, 4)
          .map((c) => `${c.name} ${f1(c.usec / r.accepted)} (${f0(c.calls)} calls)`)
          .join(', '),
    );
    // A rewrite forked during a phase takes a core from it: told apart from the pipeline's own cost.
    console.log(`  Redis during the phase: ${pauses}`);
  }
  console.log(
    `\ndashboards: ${final.open}/${final.connected} open; score frames per dashboard ` +
      `${final.scoreFrames.map(f0).join(', ')}; all frames ${f0(final.frames.reduce((x, y) => x + y, 0))}`,
  );
  const bestRate = (transport: 'http' | 'socket'): number | undefined => {
    const rates = singles
      .filter((x) => x.transport === transport)
      .map((x) => x.r.accepted / x.r.seconds);
    return rates.length ? Math.max(...rates) : undefined;
  };
  const verdicts = judgeGoals({
    ratio: max.accepted === 0 ? undefined : scoredRate / ceiling,
    usPerSample: max.accepted === 0 ? undefined : total,
    // A rate given with --half-rate is not half of this run's maximum: no verdict on it.
    halfLoadP99Ms: a['half-rate'] ? undefined : percentile(lat.ms, 0.99),
    halfLoadOutsideRewrite: outside && { p99Ms: outside.p99, seconds: outside.seconds },
    neverShown: lat.missing,
    postsPerSecond: bestRate('http'),
    socketPerSecond: bestRate('socket'),
    dashboardsOpen: final.open,
    dashboardsConnected: final.connected,
  });
  console.log(`\n${describeGoals(verdicts)}`);
} finally {
  await cleanup();
}
if (profileDir) console.log(`\nCPU profiles in ${profileDir}`);
process.exit(0);
