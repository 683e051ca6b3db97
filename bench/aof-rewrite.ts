/**
 * `npm run -s bench:aof-rewrite`: what Redis's AOF rewrites cost once the
 * dataset is large, and what they cost per sample in steady operation.
 *
 * bench:pipeline sees at most one rewrite, of a dataset of a few hundred
 * MB; a pipeline that runs for days holds GBs (the streams up to their
 * caps, a day of idempotency marks) and rewrites it every time the AOF
 * has grown by `auto-aof-rewrite-percentage` of it. This fills a private
 * redis-server (AOF as `npm start` runs it) in stages the way the pipeline
 * does: samples through the real ingest script (streams, marks, latest
 * ts), and score updates (one per `--updates-per-sample` samples, ~2.4 KB
 * with a span, the latest state in its hash without it). After each
 * stage it restarts Redis and times the load of the grown AOF (the longest
 * a restart takes), runs BGREWRITEAOF and reads the child's CPU from
 * /proc, then restarts and times the load of the rewritten file. It
 * prints, per stage: the dataset, the rewritten file, the child's CPU, the
 * restarts, and the rewrite CPU per sample in steady state for several
 * `auto-aof-rewrite-percentage` values, with `--aof-bytes` of AOF appended
 * per sample (the pipeline's figure: bench:pipeline prints it as "AOF
 * appended").
 *
 * Steady state: after a rewrite the AOF is its base (the dataset, as an RDB
 * preamble); Redis rewrites again when it has grown by pct % of the base
 * (and past auto-aof-rewrite-min-size), so a rewrite (its CPU c) comes
 * every max(base x pct / 100, min-size - base) / aof-bytes samples.
 *
 * Only a private redis-server on a free port; it stops by itself.
 */
import { parseArgs } from 'node:util';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  appendSamples,
  DATA_FIELD,
  ensurePartitionCount,
  keysFor,
  METRIC_NAMES,
  partitionOf,
  STREAM_MAXLEN,
  type StrategySample,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { AOF_REWRITE_MIN_SIZE, spawnRedisServer } from '../scripts/local-redis.js';
import { childCpuSeconds } from './collector-support.js';
import { parseInfo } from './soak-memory.js';

const { values: a } = parseArgs({
  options: {
    /** Samples in the dataset after each stage (cumulative). */
    stages: { type: 'string', default: '500000,1000000,2000000,4000000' },
    strategies: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '8' },
    /** Score updates written per sample (bench:pipeline: 0.04 at the maximum, ~0.2 at half load). */
    'updates-per-sample': { type: 'string', default: '0.2' },
    /** AOF bytes appended per sample in steady operation (bench:pipeline's half load: 1,150-1,350). */
    'aof-bytes': { type: 'string', default: '1300' },
    /** auto-aof-rewrite-percentage values to price. */
    percentages: { type: 'string', default: '100,200,400' },
  },
});
const num = (k: keyof typeof a): number => Number(a[k]);
const stages = String(a.stages).split(',').map(Number);
const strategies = num('strategies');
const partitions = num('partitions');
const updateEvery = Math.max(1, Math.round(1 / num('updates-per-sample')));
const aofBytes = num('aof-bytes');
const percentages = String(a.percentages).split(',').map(Number);
const minSize = parseSize(AOF_REWRITE_MIN_SIZE);

function parseSize(s: string): number {
  const m = /^(\d+)(gb|mb)$/i.exec(s);
  if (!m) throw new Error(`cannot read size ${s}`);
  return Number(m[1]) * (m[2]!.toLowerCase() === 'gb' ? 2 ** 30 : 2 ** 20);
}

/**
 * A deterministic stream of numbers in [0, 1) (a linear congruential
 * generator): score updates whose digits vary like measured metrics, so
 * the rewrite compresses them no better than real ones.
 */
let lcg = 12345;
function next(): number {
  lcg = (lcg * 1103515245 + 12345) % 2147483648;
  return lcg / 2147483648;
}
/** Metrics measured against a benchmark: null in updates of a strategy posted without one. */
const BENCHMARK_RELATIVE = new Set([
  'beta',
  'alpha',
  'correlation',
  'trackingError',
  'informationRatio',
]);
const METRICS = METRIC_NAMES.filter((m) => !BENCHMARK_RELATIVE.has(m));
const values = (): Record<string, number> =>
  Object.fromEntries(METRICS.map((m) => [m, (next() - 0.5) * 3]));

/** A score update of the pipeline's shape (README, "One score update per strategy per read batch"). */
function scoreUpdate(strategy: string, k: number, entryId: string, withSpan: boolean): string {
  const u: Record<string, unknown> = {
    strategy,
    id: `${strategy}:${k}`,
    ts: 1_767_225_600_000 + k * 1000,
    sampleEntryId: entryId,
    count: Math.min(k, 252),
    metrics: { ...values(), ...Object.fromEntries([...BENCHMARK_RELATIVE].map((m) => [m, null])) },
    scores: { performance: next() * 100, risk: next() * 100, stability: next() * 100 },
    status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
    weightDrift: null,
    receivedAt: 1_767_225_600_000 + k * 1000,
    computedAt: 1_767_225_600_000 + k * 1000 + 3,
  };
  if (withSpan)
    u.span = {
      samples: updateEvery,
      firstEntryId: entryId,
      firstCount: 1,
      low: values(),
      high: values(),
    };
  return JSON.stringify(u);
}

const redisServer = await spawnRedisServer({ persistence: 'aof-everysec' });
/** A client; Redis's own rewrites off (CONFIG SET lasts until a restart), so only ours run, when asked. */
async function connect(): Promise<Redis> {
  const r = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  await r.config('SET', 'auto-aof-rewrite-percentage', '0');
  return r;
}
let redis = await connect();
const keys = keysFor('quantmon');
await ensurePartitionCount(redis, keys, partitions);

async function info(section: string): Promise<Map<string, string>> {
  return parseInfo(await redis.info(section));
}

function aofDirBytes(): number {
  const dir = join(redisServer.dir, 'appendonlydir');
  return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

const seq: number[] = new Array<number>(strategies).fill(0);
let written = 0;
/** Samples through the real ingest script, in batches of 1,000, and the score updates they would cause. */
async function fillTo(target: number): Promise<void> {
  while (written < target) {
    const n = Math.min(1000, target - written);
    const batch: StrategySample[] = [];
    /** Each sample's sequence number in its strategy: its update's id and ts. */
    const ks: number[] = [];
    for (let j = 0; j < n; j++) {
      const s = (written + j) % strategies;
      const k = ++seq[s]!;
      ks.push(k);
      batch.push({
        strategy: `strat-${s}`,
        ts: 1_767_225_600_000 + k * 1000,
        return: ((k * 7919 + s) % 200) / 10_000 - 0.0099,
        benchmarkReturn: ((k * 104_729 + s) % 200) / 10_000 - 0.01,
        equity: 1_000_000 + k,
        id: `${s}:${k}`,
        receivedAt: Date.now(),
      } as StrategySample);
    }
    const r = await appendSamples(redis, 'quantmon', batch, { partitions });
    if (r.accepted !== n) throw new Error(`ingest accepted ${r.accepted} of ${n}`);
    const pipe = redis.pipeline();
    for (let j = 0; j < n; j++) {
      if ((written + j) % updateEvery !== 0) continue;
      const smp = batch[j]!;
      const pk = keys.partition(partitionOf(smp.strategy, partitions));
      const k = ks[j]!;
      const entryId = r.entryIds[j] ?? '0-1';
      pipe.xadd(
        pk.scores,
        'MAXLEN',
        '~',
        STREAM_MAXLEN.scores,
        '*',
        DATA_FIELD,
        scoreUpdate(smp.strategy, k, entryId, true),
      );
      pipe.hset(pk.latestScores, smp.strategy, scoreUpdate(smp.strategy, k, entryId, false));
    }
    await pipe.exec();
    written += n;
  }
}

/**
 * One rewrite of the dataset and its child's CPU. A Redis that starts on an
 * AOF past its rewrite threshold rewrites it at once, before a client can
 * turn that off: then that rewrite is the one measured.
 */
async function rewrite(): Promise<{ cpu: number; seconds: number }> {
  const pid = redisServer.proc().pid!;
  // The child's CPU reaches the parent's cutime once Redis has reaped it, before it reports the rewrite done.
  const cpu0 = childCpuSeconds(pid);
  const p0 = await info('persistence');
  const before = Number(p0.get('aof_rewrites'));
  if (p0.get('aof_rewrite_in_progress') === '1')
    console.error(
      '  (Redis started a rewrite itself on loading the grown AOF: measuring that one)',
    );
  else await redis.bgrewriteaof();
  const t0 = performance.now();
  for (;;) {
    const p = await info('persistence');
    if (Number(p.get('aof_rewrites')) > before && p.get('aof_rewrite_in_progress') === '0') break;
    if (p0.get('aof_rewrite_in_progress') === '1' && p.get('aof_rewrite_in_progress') === '0')
      break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = Math.max(
    Number((await info('persistence')).get('aof_last_rewrite_time_sec')),
    (performance.now() - t0) / 1000,
  );
  return { cpu: childCpuSeconds(pid) - cpu0, seconds };
}

async function restart(): Promise<number> {
  redis.disconnect();
  await redisServer.stop();
  const t0 = performance.now();
  await redisServer.start();
  const seconds = (performance.now() - t0) / 1000;
  redis = await connect();
  return seconds;
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(0);
console.log(
  `\nbench:aof-rewrite  ${partitions} partitions, ${strategies} strategies, a score update every ${updateEvery} samples; ` +
    `steady-state prices at ${aofBytes} B of AOF per sample, auto-aof-rewrite-min-size ${AOF_REWRITE_MIN_SIZE}\n`,
);
console.log(
  '| samples | Redis used MB | AOF MB | restart s | rewritten AOF MB | child CPU s | rewrite s | restart s | ' +
    percentages.map((p) => `µs / sample at ${p} %`).join(' | ') +
    ' |',
);
console.log(
  `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ${percentages.map(() => '---:').join(' | ')} |`,
);
try {
  for (const target of stages) {
    const f0 = performance.now();
    await fillTo(target);
    const fillS = (performance.now() - f0) / 1000;
    const used = Number((await info('memory')).get('used_memory'));
    // The longest a restart takes: the AOF just before a rewrite, with the stage's commands to replay.
    const grown = aofDirBytes();
    const replayS = await restart();
    const rw = await rewrite();
    const base = aofDirBytes();
    const restartS = await restart();
    const prices = percentages.map((p) => {
      const bytesBetween = Math.max((base * p) / 100, minSize - base);
      return ((rw.cpu * 1e6) / (bytesBetween / aofBytes)).toFixed(1);
    });
    console.log(
      `| ${target.toLocaleString('en-US')} | ${mb(used)} | ${mb(grown)} | ${replayS.toFixed(1)} | ` +
        `${mb(base)} | ${rw.cpu.toFixed(2)} | ` +
        `${rw.seconds.toFixed(1)} | ${restartS.toFixed(1)} | ${prices.join(' | ')} |`,
    );
    console.error(`  (stage filled in ${fillS.toFixed(0)} s)`);
  }
} finally {
  redis.disconnect();
  await redisServer.dispose();
}
