/**
 * `npm run bench:redis-reads`: what reading a stream costs the Redis
 * client (ioredis, the version installed), in CPU microseconds per entry,
 * in the two shapes the pipeline reads: the scorer's XREADGROUP of up to
 * 2,000 samples (~160 bytes of JSON each) and the alerter's and gateway's
 * reads of score updates (~2.5 KB each, 100 a read). The client's own CPU
 * (process.cpuUsage, user + system) over the reads, divided by the
 * entries: Redis's side is not counted, and a reply is decoded the same
 * however busy the machine is, so two client versions compare here where
 * the whole pipeline's runs move more between runs than they differ
 * (docs/performance.md, "2026-12-03 (third session)").
 *
 *   npm run bench:redis-reads
 *   npm run bench:redis-reads -- --rounds 400
 *
 * Needs redis-server on the PATH (started on a free port, no persistence).
 * Prints, per shape, the median and the spread over 5 runs of `--rounds`
 * reads each, and a JSON.parse of the same entries for scale.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { spawnRedisServer } from '../scripts/local-redis.js';
import { quantile } from './collector-support.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '200' } },
});
const ROUNDS = Number(args.rounds);
const RUNS = 5;

const version = (createRequire(import.meta.url)('ioredis/package.json') as { version: string })
  .version;
const server = await spawnRedisServer({ persistence: 'none' });
const redis = new Redis(server.url);

/** A stored sample as the collector writes it (field `d`, JSON). */
function sampleJson(i: number): string {
  return JSON.stringify({
    strategy: `strat-${i % 100}`,
    ts: 1_767_225_600_000 + i * 1000,
    return: ((i * 7919) % 200) / 10_000 - 0.0099,
    benchmarkReturn: ((i * 104_729) % 200) / 10_000 - 0.01,
    equity: 1_000_000 + i,
    id: `${i % 100}:${i}`,
    receivedAt: 1_767_225_600_000 + i * 1000 + 3,
  });
}

/** A score update with a span, ~2.5 KB: 22 metrics, scores, low and high of 25 fields. */
function updateJson(i: number): string {
  const metrics: Record<string, number> = {};
  for (let m = 0; m < 22; m++) metrics[`metric${m}`] = Math.sin(i + m) / 7;
  const low: Record<string, number> = {};
  const high: Record<string, number> = {};
  for (let m = 0; m < 25; m++) {
    low[`field${m}`] = Math.cos(i + m) / 11;
    high[`field${m}`] = Math.cos(i + m) / 9;
  }
  return JSON.stringify({
    strategy: `strat-${i % 100}`,
    id: `${i % 100}:${i}`,
    ts: 1_767_225_600_000 + i * 1000,
    sampleEntryId: `${1_767_225_600_000 + i}-0`,
    count: 500,
    metrics,
    scores: { performance: 55.5, risk: 41.25, stability: 70.125 },
    status: 'ok',
    weightDrift: null,
    receivedAt: 1_767_225_600_000,
    computedAt: 1_767_225_600_010,
    span: { samples: 12, firstEntryId: `${1_767_225_600_000 + i}-0`, firstCount: 489, low, high },
  });
}

async function fill(key: string, n: number, json: (i: number) => string): Promise<string[]> {
  const values: string[] = [];
  const p = redis.pipeline();
  for (let i = 0; i < n; i++) {
    values.push(json(i));
    p.xadd(key, '*', 'd', values[i]!);
  }
  await p.exec();
  return values;
}

/** Client CPU µs per entry over `ROUNDS` reads of `count` entries, by a consumer group that rereads. */
async function readRun(key: string, count: number): Promise<number> {
  // Each run reads the same entries again: a new group at the start of the stream.
  const group = `g${Math.random().toString(36).slice(2)}`;
  await redis.xgroup('CREATE', key, group, '0');
  let entries = 0;
  const t0 = process.cpuUsage();
  for (let r = 0; r < ROUNDS; r++) {
    await redis.xgroup('SETID', key, group, '0');
    const reply = (await redis.xreadgroup(
      'GROUP',
      group,
      'c',
      'COUNT',
      count,
      'STREAMS',
      key,
      '>',
    )) as [string, [string, string[]][]][] | null;
    entries += reply?.[0]?.[1].length ?? 0;
  }
  const d = process.cpuUsage(t0);
  await redis.xgroup('DESTROY', key, group);
  if (entries !== ROUNDS * count)
    throw new Error(`read ${entries} entries, expected ${ROUNDS * count}`);
  return (d.user + d.system) / entries;
}

function parseRun(values: string[]): number {
  const t0 = process.cpuUsage();
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) for (const v of values) n += (JSON.parse(v) as object) ? 1 : 0;
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}

const fmt = (xs: number[]): string =>
  `${quantile(xs, 0.5).toFixed(2)} µs per entry (runs ${[...xs]
    .sort((a, b) => a - b)
    .map((x) => x.toFixed(2))
    .join(', ')})`;

try {
  console.log(`\nbench:redis-reads  ioredis ${version}, ${ROUNDS} reads per run, ${RUNS} runs\n`);
  const shapes = [
    { name: 'samples, 2,000 a read (the scorer)', key: 'bench:samples', n: 2000, json: sampleJson },
    {
      name: 'score updates, 100 a read (alerter, gateway)',
      key: 'bench:scores',
      n: 100,
      json: updateJson,
    },
  ];
  for (const s of shapes) {
    const values = await fill(s.key, s.n, s.json);
    await readRun(s.key, s.n); // warm-up
    const reads: number[] = [];
    const parses: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      reads.push(await readRun(s.key, s.n));
      parses.push(parseRun(values));
    }
    const bytes = Math.round(values.reduce((a, v) => a + v.length, 0) / values.length);
    console.log(`${s.name}, ${bytes} bytes of JSON each`);
    console.log(`  XREADGROUP reply, client CPU  ${fmt(reads)}`);
    console.log(`  JSON.parse of the same entry  ${fmt(parses)}`);
  }
} finally {
  redis.disconnect();
  await server.dispose();
}
