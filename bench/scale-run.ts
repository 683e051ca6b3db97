/**
 * One measured run of bench/scale.ts: CPU of every process from /proc
 * before and after, the load written by the load process, the wait until
 * every partition is scored; with `backlog`, the scorers sit stopped
 * (SIGSTOP) while the load is written and then drain it in full batches.
 */
import { GROUPS, keysFor } from '@quantmon/shared';
import type { RunningService } from '../test/helpers/services.js';
import type { LoadReply, LoadSpec } from './scale-load.js';
import { sum, type Row, type Run } from './scale-report.js';
import {
  cpuOf,
  machineCpu,
  scoresWritten,
  waitDrained,
  type LoadProcess,
} from './scale-support.js';
import type { BenchTopology } from './scale-topology.js';

export interface RunOptions {
  partitions: number;
  backlog: boolean;
  /** The scorers' LEASE_TTL_MS: a backlog run warns when it stopped them nearly that long. */
  leaseTtlMs: number;
}

/** One configuration: N scorer replicas (and the other services) on a key prefix of their own. */
export interface Configuration {
  replicas: number;
  prefix: string;
  scorers: RunningService[];
  /** A collector (HTTP ingest), and with --pipeline an alerter and a gateway. */
  others: RunningService[];
  /** Rounds of timestamps published so far on this prefix. */
  rounds: number;
  row: Row;
}

export const pidOf = (s: RunningService): number => s.proc.pid ?? 0;
export const signal = (services: RunningService[], sig: NodeJS.Signals): void => {
  for (const s of services) s.proc.kill(sig);
};
export const servicesOf = (c: Configuration): RunningService[] => [...c.scorers, ...c.others];

export async function measure(
  opts: RunOptions,
  topo: BenchTopology,
  load: LoadProcess,
  c: Configuration,
  idle: RunningService[],
  spec: LoadSpec,
): Promise<Run> {
  const keys = keysFor(c.prefix);
  await load.order({ type: 'prepare', spec });
  const n = c.scorers.length;
  const pids = [
    ...c.scorers.map(pidOf),
    ...topo.servers.map((s) => s.pid),
    load.pid,
    ...c.others.map(pidOf),
    ...idle.map(pidOf),
  ];
  const scoresBefore = await scoresWritten(topo.redis, keys, opts.partitions);
  const scripts0 = await topo.calls('evalsha');
  const m0 = machineCpu();
  const own0 = process.cpuUsage();
  const c0 = cpuOf(pids);
  const t0 = performance.now();
  // Backlog: the scorers sit stopped while the load is written, then drain it in full batches.
  if (opts.backlog) signal(c.scorers, 'SIGSTOP');
  let published: LoadReply;
  let cMid = c0;
  let tMid = t0;
  try {
    published = await load.order({ type: 'go' });
    if (opts.backlog) [cMid, tMid] = [cpuOf(pids), performance.now()];
  } finally {
    if (opts.backlog) signal(c.scorers, 'SIGCONT');
  }
  if (opts.backlog && tMid - t0 > opts.leaseTtlMs * 0.8) {
    process.stderr.write(
      `  warning: the scorers were stopped ${(tMid - t0).toFixed(0)} ms, near LEASE_TTL_MS\n`,
    );
  }
  await waitDrained(topo.redis, keys, opts.partitions, 'strategySamples', GROUPS.scorer, 300_000);
  if (c.others.some((s) => s.name === 'alerter')) {
    await waitDrained(topo.redis, keys, opts.partitions, 'scores', GROUPS.alerter, 300_000);
  }
  const t1 = performance.now();
  const seconds = (t1 - t0) / 1000;
  const c1 = cpuOf(pids);
  const own = process.cpuUsage(own0);
  const m1 = machineCpu();
  if (published.type !== 'published') throw new Error(`unexpected reply ${published.type}`);
  const scored = (await scoresWritten(topo.redis, keys, opts.partitions)) - scoresBefore;
  // EVALSHA calls are the ingest appends (counted by the load) and the scorers' fenced writes.
  const scorerWrites = (await topo.calls('evalsha')) - scripts0 - published.scripts;
  const used = c1.map((x, i) => x - c0[i]!);
  const us = used.map((x) => (x * 1e6) / spec.samples);
  const servers = topo.servers.map((s, i) => ({ role: s.role, us: us[n + i]! }));
  const redisUs = (role: 'primary' | 'replica'): number =>
    sum(servers.filter((s) => s.role === role).map((s) => s.us));
  const primaries = topo.servers.flatMap((s, i) => (s.role === 'primary' ? [n + i] : []));
  const ingestUs = (sum(primaries.map((i) => cMid[i]! - c0[i]!)) * 1e6) / spec.samples;
  const at = n + servers.length;
  return {
    seconds,
    samples: spec.samples,
    rate: spec.samples / (opts.backlog ? (t1 - tMid) / 1000 : seconds),
    publishRate: published.written / published.seconds,
    scorerUs: us.slice(0, n),
    serviceUs: Object.fromEntries(c.others.map((s, i) => [s.name, us[at + 1 + i]!])),
    redisPrimaryUs: redisUs('primary'),
    redisReplicaUs: redisUs('replica'),
    redisBusiestUs: Math.max(...servers.filter((s) => s.role === 'primary').map((s) => s.us)),
    ...(opts.backlog
      ? { redisIngestUs: ingestUs, redisScoringUs: redisUs('primary') - ingestUs }
      : {}),
    loadUs: us[at]!,
    otherCores: Math.max(
      0,
      (m1.busy - m0.busy - sum(used) - (own.user + own.system) / 1e6) / seconds,
    ),
    scored,
    written: published.written,
    // An alerter's fenced writes are EVALSHA too: no batch figure beside one.
    batch: c.others.some((s) => s.name === 'alerter') ? NaN : scored / Math.max(1, scorerWrites),
  };
}

/** Empty the run's streams (consumed, and unread): every run starts alike, memory stays flat. */
export async function trim(topo: BenchTopology, prefix: string, partitions: number): Promise<void> {
  const keys = keysFor(prefix);
  await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      const pk = keys.partition(p);
      await topo.redis.xtrim(pk.strategySamples, 'MAXLEN', 0);
      await topo.redis.xtrim(pk.scores, 'MAXLEN', 0);
    }),
  );
}
