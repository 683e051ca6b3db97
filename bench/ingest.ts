/**
 * Ingest throughput: samples per second accepted by a collector process
 * over loopback HTTP and written to the stream, in batches of 1 and of
 * 1000, with request latency (median, p99), and one sample per message over
 * the collector's ingest socket (/v1/samples/ws), 16 and 256 in flight per
 * connection, and a burst of `--burst` sends through the client package's
 * SampleSocket. Baselines in the same run, on
 * the same private Redis: raw pipelined XADD of the same entries from this
 * process (the ceiling), and the idempotent ordered Lua write called
 * directly (what HTTP, JSON and validation add on top of it). A retried
 * pass shows the cost of answering duplicates. The pipeline has P
 * partitions (default 8, as a new pipeline gets): a batch of one strategy
 * is one partition's Lua step, a batch of 16 strategies is split into one
 * step per partition, run in parallel. Bounded by counts.
 *
 *   npm run bench:ingest      (or npx tsx bench/ingest.ts)
 *   npm run bench:ingest -- --single 20000 --batches 200 --rounds 3 --partitions 8
 */
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { keysFor, STREAM_MAXLEN } from '../packages/shared/src/keys.js';
import { allPartitions } from '../packages/shared/src/partition.js';
import { appendSamples } from '../packages/shared/src/publish-samples.js';
import { encodeEntry } from '../packages/shared/src/stream-codec.js';
import type { StrategySample } from '../packages/shared/src/schemas/strategy-sample.js';
import { benchRedis, quantile, startCollector } from './collector-support.js';
import { pipelinedPosts, type PipelinedResult } from './http-pipelined.js';
import { pipelinedMessages } from './socket-pipelined.js';
import { SampleSocket } from '../packages/client/src/sample-socket.js';
import { postJson } from './http-post.js';

const { values: args } = parseArgs({
  options: {
    single: { type: 'string', default: '20000' },
    batches: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    'batch-concurrency': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '8' },
    /** Samples a SampleSocket sends at once (one send each, then every answer awaited). */
    burst: { type: 'string', default: '50000' },
  },
});
const P = Number(args.partitions);
const SINGLE = Number(args.single);
const BATCHES = Number(args.batches);
const CONC = Number(args.concurrency);
/** Batches of 1000 saturate Redis with a few in flight; more only adds queueing to the latency. */
const BCONC = Number(args['batch-concurrency']);
const BURST = Number(args.burst);

const redisSrv = await benchRedis();
const redis = new Redis(redisSrv.url);
const prefix = `bench-ingest-${process.pid}`;
const keys = keysFor(prefix);
const collector = await startCollector({
  REDIS_URL: redisSrv.url,
  QUANTMON_PREFIX: prefix,
  SYSTEM_INTERVAL_MS: '3600000',
  INGEST_MAX_BATCH: '10000',
  PARTITIONS: String(P),
});
const url = `http://127.0.0.1:${collector.port}/v1/samples`;
const agent = new Agent({ keepAlive: true, maxSockets: CONC });

/** A realistic sample: benchmark return, equity, three weights and targets, an id. */
function sample(strategy: string, i: number): Record<string, unknown> {
  return {
    strategy,
    ts: 1_767_225_600_000 + i * 1000,
    return: ((i * 7919) % 200) / 10_000 - 0.01,
    benchmarkReturn: ((i * 104_729) % 200) / 10_000 - 0.01,
    equity: 1_000_000 + i,
    weights: { SPY: 0.5, TLT: 0.3, GLD: 0.2 },
    targetWeights: { SPY: 0.5, TLT: 0.3, GLD: 0.2 },
    id: `${strategy}-${i}`,
  };
}

/** Entries ever added to the partitions' streams (XLEN would undercount once MAXLEN trims). */
async function entriesAdded(): Promise<number> {
  let total = 0;
  for (const p of allPartitions(P)) {
    try {
      const info = (await redis.xinfo('STREAM', keys.partition(p).strategySamples)) as unknown[];
      total += Number(info[info.indexOf('entries-added') + 1]);
    } catch {
      // no stream yet
    }
  }
  return total;
}

interface Run {
  name: string;
  samples: number;
  seconds: number;
  latMs?: number[];
  accepted?: number;
  written?: number;
}

/**
 * `requests` bodies sent by `CONC` workers; each worker owns its strategies
 * (`spread` of them, round robin inside a batch) so ts rise per strategy.
 */
async function httpRun(
  name: string,
  requests: number,
  batch: number,
  tag: string,
  conc = CONC,
  spread = 1,
): Promise<Run> {
  const bodies: string[][] = Array.from({ length: conc }, () => []);
  for (let r = 0; r < requests; r++) {
    const w = r % conc;
    const k = bodies[w]!.length;
    bodies[w]!.push(
      JSON.stringify(
        batch === 1
          ? sample(`${tag}-${w}`, k)
          : Array.from({ length: batch }, (_, j) =>
              sample(spread === 1 ? `${tag}-${w}` : `${tag}-${w}-${j % spread}`, k * batch + j),
            ),
      ),
    );
  }
  const before = await entriesAdded();
  const lat: number[] = [];
  let accepted = 0;
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (list) => {
      for (const b of list) {
        const a = performance.now();
        const res = await postJson(url, b, agent);
        lat.push(performance.now() - a);
        if (res.status !== 202) throw new Error(`${res.status} ${res.body}`);
        accepted += (JSON.parse(res.body) as { accepted: number }).accepted;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const written = (await entriesAdded()) - before;
  return { name, samples: requests * batch, seconds, latMs: lat, accepted, written };
}

/**
 * Batch-of-one posts HTTP-pipelined: `depth` requests in flight on each of
 * CONC keep-alive sockets for `seconds` (each socket owns a strategy, so
 * its timestamps rise), as a trading system sending one sample per request
 * at high rate does.
 */
async function pipelinedRun(
  tag: string,
  depth: number,
  seconds: number,
  transport: 'http' | 'socket' = 'http',
): Promise<Run> {
  const next = new Array<number>(CONC).fill(0);
  const before = await entriesAdded();
  const run = transport === 'http' ? pipelinedPosts : pipelinedMessages;
  const r: PipelinedResult = await run({
    url: transport === 'http' ? url : url.replace(/^http/, 'ws') + '/ws',
    connections: CONC,
    depth,
    seconds,
    body: (c) => JSON.stringify(sample(`${tag}-${c}`, next[c]!++)),
  });
  if (r.ok !== r.sent) throw new Error(`pipelined: ${JSON.stringify(r.byStatus)}`);
  return {
    name:
      transport === 'http'
        ? `HTTP batch 1, pipelined ${depth} deep`
        : `socket, 1 per message, ${depth} in flight`,
    samples: r.sent,
    seconds: r.seconds,
    accepted: r.ok,
    written: (await entriesAdded()) - before,
    latMs: [r.latencyMs.p50, r.latencyMs.p99],
  };
}

/**
 * The client package's SampleSocket, as a trading system uses it: `n`
 * sends over 16 strategies in one go, each a message of one sample, then
 * every answer awaited (validated, as the client does). Its own CPU shares
 * the machine, as in the socket runs above.
 */
async function sampleSocketBurst(n: number, tag: string): Promise<Run> {
  const socket = await SampleSocket.open({ url: url.replace(/^http/, 'ws') + '/ws' });
  const before = await entriesAdded();
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      socket.send(
        sample(`burst-${tag}-${i % 16}`, Math.floor(i / 16)) as Parameters<SampleSocket['send']>[0],
      ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  await socket.close();
  let accepted = 0;
  for (const a of answers) {
    if (!('accepted' in a)) throw new Error(`SampleSocket burst: ${JSON.stringify(a)}`);
    accepted += a.accepted;
  }
  return {
    name: `SampleSocket, a burst of ${n}`,
    samples: n,
    seconds,
    accepted,
    written: (await entriesAdded()) - before,
  };
}

function stamped(tag: string, n: number): StrategySample[] {
  return Array.from({ length: n }, (_, i) => {
    const s = sample(tag, i) as Omit<StrategySample, 'receivedAt'>;
    return { ...s, receivedAt: Date.now() };
  });
}

/** Pipelined XADD to one stream (partition 0's): the ceiling of one partition's write. */
async function rawXadd(n: number, tag: string): Promise<Run> {
  const samples = stamped(`raw-${tag}`, n);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const p = redis.pipeline();
    for (const s of samples.slice(i, i + 1000)) {
      p.xadd(
        keys.partition(0).strategySamples,
        'MAXLEN',
        '~',
        STREAM_MAXLEN.strategySamples,
        '*',
        ...encodeEntry(s),
      );
    }
    await p.exec();
  }
  return {
    name: 'baseline: raw pipelined XADD x1000',
    samples: n,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function directLua(n: number, batch: number, tag: string): Promise<Run> {
  const samples = stamped(`lua${batch}-${tag}`, n);
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    const a = performance.now();
    await appendSamples(redis, prefix, samples.slice(i, i + batch), { partitions: P });
    lat.push(performance.now() - a);
  }
  return {
    name: `baseline: Lua append direct, batch ${batch}`,
    samples: n,
    seconds: (performance.now() - t0) / 1000,
    latMs: lat,
  };
}

process.stdout.write(
  `ingest over loopback HTTP, keep-alive, ${CONC} connections for batch 1 and ${BCONC} for batch 1000, ${P} partitions, collector pid ${collector.pid} (shared 2-core machine)\n`,
);
// Warm-up: JIT, connections, script cache.
await httpRun('warm-up', 2000, 1, 'warm');
await httpRun('warm-up', 10, 1000, 'warmb', BCONC);

/**
 * Rounds interleave the scenarios so that load from other processes on a
 * shared machine falls on all of them alike; each rate is the median over
 * rounds, latencies are pooled.
 */
const ROUNDS = Number(args.rounds);
const rounds: Run[][] = [];
for (let r = 0; r < ROUNDS; r++) {
  const tag = `r${r}`;
  rounds.push([
    await httpRun('HTTP batch 1', SINGLE, 1, `one-${tag}`),
    await pipelinedRun(`pipe-${tag}`, 16, 4),
    await httpRun('HTTP batch 1000', BATCHES, 1000, `thousand-${tag}`, BCONC),
    await httpRun('HTTP batch 1000, retried (all dup)', BATCHES, 1000, `thousand-${tag}`, BCONC),
    await httpRun('HTTP batch 1000, 16 strategies', BATCHES, 1000, `spread-${tag}`, BCONC, 16),
    await directLua(BATCHES * 1000, 1000, tag),
    await directLua(Math.min(SINGLE, 20_000), 1, tag),
    await rawXadd(BATCHES * 1000, tag),
    await pipelinedRun(`sock-${tag}`, 16, 4, 'socket'),
    await pipelinedRun(`sockd-${tag}`, 256, 4, 'socket'),
    await sampleSocketBurst(BURST, tag),
  ]);
}
const runs: (Run & { rate: number })[] = rounds[0]!.map((first, i) => {
  const all = rounds.map((round) => round[i]!);
  const lat = all.flatMap((x) => x.latMs ?? []);
  const sum = (k: 'accepted' | 'written'): number | undefined =>
    first[k] === undefined ? undefined : all.reduce((a, x) => a + (x[k] ?? 0), 0);
  const run: Run & { rate: number } = {
    ...first,
    samples: all.reduce((a, x) => a + x.samples, 0),
    rate: quantile(
      all.map((x) => x.samples / x.seconds),
      0.5,
    ),
  };
  if (lat.length > 0) run.latMs = lat;
  const acc = sum('accepted');
  const wr = sum('written');
  if (acc !== undefined) run.accepted = acc;
  if (wr !== undefined) run.written = wr;
  return run;
});

const f = (x: number, d = 0): string => x.toFixed(d);
process.stdout.write(
  `\n${'run'.padEnd(38)} ${'samples'.padStart(8)} ${'samples/s'.padStart(10)} ${'req p50 ms'.padStart(11)} ${'req p99 ms'.padStart(11)}  written/accepted\n`,
);
for (const r of runs) {
  const rate = r.rate;
  const lat = r.latMs
    ? `${f(quantile(r.latMs, 0.5), 2).padStart(11)} ${f(quantile(r.latMs, 0.99), 2).padStart(11)}`
    : `${'-'.padStart(11)} ${'-'.padStart(11)}`;
  const wa = r.accepted !== undefined ? `  ${r.written}/${r.accepted}` : '';
  process.stdout.write(
    `${r.name.padEnd(38)} ${String(r.samples).padStart(8)} ${f(rate).padStart(10)} ${lat}${wa}\n`,
  );
}
const b1000 = runs[2]!;
const raw = runs[7]!;
process.stdout.write(
  `\nsamples/s: median over ${ROUNDS} interleaved rounds; latencies pooled over the rounds.\n` +
    `HTTP batch 1000 reaches ${((b1000.rate / raw.rate) * 100).toFixed(0)} % of raw pipelined XADD, ` +
    `${((b1000.rate / runs[5]!.rate) * 100).toFixed(0)} % of the same Lua write called directly.\n` +
    `Pipelined batch-1 latencies are per round (p50, p99 of each), pooled.\n`,
);
agent.destroy();
redis.disconnect();
await collector.stop();
await redisSrv.dispose();
