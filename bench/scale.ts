/**
 * Scale-out: samples/s scored end to end and CPU microseconds per sample
 * per process, for 1, 2 and 4 scorer replicas started with identical
 * settings, on a single Redis and on a Redis Cluster (three masters, one
 * replica each). Everything is private to the bench and on 127.0.0.1.
 *
 * One run: a load process (a child of its own, so its CPU is counted
 * apart) sends `--samples` samples over `--strategies` strategies as fast
 * as the system takes them: `POST /v1/samples` to a collector process
 * (`--ingest http`, the default), or publishSamples straight to Redis
 * (`--ingest direct`). The run ends when every partition's scorer group has
 * consumed its stream's newest entry. samples/s = samples / (first publish
 * .. all scored). CPU per process = utime+stime from /proc/<pid>/stat over
 * the run, divided by the samples.
 *
 * Per topology, every configuration (its scorers and collector, on a key
 * prefix of its own) runs at once; after a warm-up, `--runs` rounds run
 * each configuration once, interleaved, so that load from other processes
 * on a shared machine falls on all alike; figures are medians over rounds.
 * Baseline in the same run: raw pipelined XADD of the same JSON into an
 * idle stream on the same Redis (once per round).
 *
 *   npm run -s bench:scale
 *   npm run -s bench:scale -- --topology single --replicas 1,2 --samples 20000 --runs 1
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startService } from '../test/helpers/services.js';
import type { LoadSpec } from './scale-load.js';
import { printReport, sum, type Idle, type Report, type Row, type Run } from './scale-report.js';
import {
  measure,
  pidOf,
  servicesOf,
  signal,
  trim,
  type Configuration,
  type RunOptions,
} from './scale-run.js';
import { cpuOf, startLoad, waitOwnership, type LoadProcess } from './scale-support.js';
import { startTopology, type BenchTopology, type TopologyName } from './scale-topology.js';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '50000' },
    strategies: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '8' },
    topology: { type: 'string', default: 'both' },
    replicas: { type: 'string', default: '1,2,4' },
    runs: { type: 'string', default: '3' },
    /** Warm-up samples per scorer replica: each process warms its own JIT. */
    warmup: { type: 'string', default: '20000' },
    ingest: { type: 'string', default: 'http' },
    batch: { type: 'string', default: '1000' },
    lanes: { type: 'string', default: '4' },
    /** Stop the scorers while a run's samples are written, then time their drain (full batches). */
    backlog: { type: 'boolean', default: false },
    /** Add an alerter and a gateway (no clients) to every configuration, and time the alerter too. */
    pipeline: { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof args, min: number): number => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name}: an integer >= ${min}`);
  return v;
};
const SAMPLES = num('samples', 1);
const STRATEGIES = num('strategies', 1);
const PARTITIONS = num('partitions', 1);
const RUNS = num('runs', 1);
const WARMUP = num('warmup', 0);
const BATCH = num('batch', 1);
const LANES = num('lanes', 1);
const REPLICAS = String(args.replicas).split(',').map(Number);
if (REPLICAS.some((r) => !Number.isInteger(r) || r < 1)) throw new Error('--replicas: e.g. 1,2,4');
const TOPOLOGIES: TopologyName[] =
  args.topology === 'both' ? ['single', 'cluster'] : [args.topology as TopologyName];
if (TOPOLOGIES.some((t) => t !== 'single' && t !== 'cluster'))
  throw new Error('--topology: single, cluster or both');
if (args.ingest !== 'http' && args.ingest !== 'direct') throw new Error('--ingest: http or direct');
const HTTP = args.ingest === 'http';
const BACKLOG = args.backlog;
/** Backlog runs stop the scorers for the time the load takes: leases must outlast it. */
const LEASE_TTL_MS = BACKLOG ? 30_000 : 5000;
/** How long the processes' idle CPU is measured, per topology. */
const IDLE_MS = 5000;

const report: Report = { rows: [], idles: new Map(), baselines: new Map() };
const RUN: RunOptions = { partitions: PARTITIONS, backlog: BACKLOG, leaseTtlMs: LEASE_TTL_MS };

/** Scorers with identical settings, as `docker compose up --scale scorer=N` starts them. */
async function startConfiguration(topo: BenchTopology, replicas: number): Promise<Configuration> {
  const prefix = `bench-scale-r${replicas}`;
  const env = {
    ...topo.env,
    QUANTMON_PREFIX: prefix,
    PARTITIONS: String(PARTITIONS),
    LEASE_TTL_MS: String(LEASE_TTL_MS),
  };
  const started = await Promise.allSettled([
    ...Array.from({ length: replicas }, () => startService('scorer', env)),
    // No host samples or probes during the bench: ingest only.
    ...(HTTP ? [startService('collector', { ...env, SYSTEM_INTERVAL_MS: '3600000' })] : []),
    ...(args.pipeline ? [startService('alerter', env), startService('gateway', env)] : []),
  ]);
  const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const scorers = up.filter((s) => s.name === 'scorer');
    const shares = await waitOwnership(scorers, PARTITIONS);
    const others = up.filter((s) => s.name !== 'scorer');
    const alerters = others.filter((s) => s.name === 'alerter');
    if (alerters.length > 0) await waitOwnership(alerters, PARTITIONS);
    const row: Row = { topology: topo.name, replicas, shares, runs: [] };
    return { replicas, prefix, scorers, others, rounds: 0, row };
  } catch (err) {
    await Promise.all(up.map((s) => s.stop()));
    throw err;
  }
}

async function runOnce(
  topo: BenchTopology,
  load: LoadProcess,
  configs: Configuration[],
  c: Configuration,
  samples: number,
  tag: string,
): Promise<Run> {
  const spec: LoadSpec = {
    target: topo.target,
    prefix: c.prefix,
    partitions: PARTITIONS,
    samples,
    strategies: STRATEGIES,
    batch: BATCH,
    lanes: LANES,
    roundOffset: c.rounds,
    tag,
  };
  const collector = c.others.find((s) => s.name === 'collector');
  if (collector) spec.ingestUrl = `http://127.0.0.1:${collector.port}/v1/samples`;
  c.rounds += Math.ceil(samples / STRATEGIES);
  // The other configurations' processes idle meanwhile: their CPU is ours, not "other".
  const idle = configs.filter((x) => x !== c).flatMap(servicesOf);
  const run = await measure(RUN, topo, load, c, idle, spec);
  await trim(topo, c.prefix, PARTITIONS);
  return run;
}

async function idleCores(topo: BenchTopology, configs: Configuration[]): Promise<Idle> {
  const scorers = configs.flatMap((c) => c.scorers.map(pidOf));
  const pids = [...scorers, ...topo.servers.map((s) => s.pid)];
  const c0 = cpuOf(pids);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const c1 = cpuOf(pids);
  const seconds = (performance.now() - t0) / 1000;
  const cores = c1.map((x, i) => (x - c0[i]!) / seconds);
  const redis = cores.slice(scorers.length);
  const of = (role: 'primary' | 'replica'): number =>
    sum(redis.filter((_, i) => topo.servers[i]!.role === role));
  return {
    redisPrimary: of('primary'),
    redisReplica: of('replica'),
    scorer: sum(cores.slice(0, scorers.length)) / scorers.length,
    seconds,
  };
}

async function baseline(topo: BenchTopology, load: LoadProcess): Promise<void> {
  // One key: on a Cluster one master, so its rate is one Redis primary's ceiling.
  const reply = await load.order({ type: 'baseline', key: 'bench-scale-baseline:{b}' });
  if (reply.type !== 'baseline') throw new Error(`unexpected reply ${reply.type}`);
  const list = report.baselines.get(topo.name) ?? [];
  list.push(reply.samples / reply.seconds);
  report.baselines.set(topo.name, list);
}

async function benchTopology(name: TopologyName): Promise<void> {
  process.stderr.write(`starting ${name} Redis...\n`);
  const topo = await startTopology(name);
  const load = startLoad();
  const configs: Configuration[] = [];
  // Ctrl-C reaches every process of the group, but a SIGSTOPped one acts on it only once continued.
  const onInterrupt = (): void => {
    signal(configs.flatMap(servicesOf), 'SIGCONT');
    process.exit(130);
  };
  if (BACKLOG) process.once('SIGINT', onInterrupt);
  try {
    for (const replicas of REPLICAS) configs.push(await startConfiguration(topo, replicas));
    for (const c of configs) {
      if (WARMUP > 0) await runOnce(topo, load, configs, c, WARMUP * c.replicas, 'warm');
    }
    report.idles.set(name, await idleCores(topo, configs));
    for (let r = 0; r < RUNS; r++) {
      for (let k = 0; k < configs.length; k++) {
        const c = configs[(k + r) % configs.length]!;
        const run = await runOnce(topo, load, configs, c, SAMPLES, `r${r}`);
        c.row.runs.push(run);
        process.stderr.write(
          `  ${name} x${c.replicas} run ${r + 1}: ${run.rate.toFixed(0)} samples/s, ` +
            `scorer ${run.scorerUs.map((u) => u.toFixed(1)).join('+')} µs, ` +
            `redis ${run.redisPrimaryUs.toFixed(1)} µs, batch ${run.batch.toFixed(0)}, ` +
            `other ${run.otherCores.toFixed(2)} cores\n`,
        );
      }
      await baseline(topo, load);
    }
    report.rows.push(...configs.map((c) => c.row));
  } finally {
    process.off('SIGINT', onInterrupt);
    if (BACKLOG) signal(configs.flatMap(servicesOf), 'SIGCONT'); // a stopped process never sees SIGTERM
    await Promise.all(configs.flatMap(servicesOf).map((s) => s.stop()));
    await load.stop();
    await topo.stop();
  }
}

process.stdout.write(
  `bench:scale: ${SAMPLES} samples over ${STRATEGIES} strategies per run, P=${PARTITIONS}, ` +
    `${RUNS} interleaved runs per configuration after ${WARMUP} warm-up samples per replica, ` +
    `medians; ${cpus().length} cores, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start\n` +
    (HTTP
      ? `load: POST /v1/samples to one collector process (keep-alive), `
      : `load: publishSamples straight to Redis (the collector's write, without HTTP), `) +
    `batches of ${BATCH} in ${LANES} lanes, from a separate load process\n` +
    (args.pipeline
      ? `pipeline: an alerter and a gateway (no clients) beside every configuration\n`
      : '') +
    (BACKLOG
      ? `backlog: the scorers are SIGSTOPped while each run's samples are written, then drain ` +
        `them; samples/s is the drain's rate (LEASE_TTL_MS=${LEASE_TTL_MS} for every replica)\n`
      : ''),
);
for (const name of TOPOLOGIES) await benchTopology(name);
printReport(report);
