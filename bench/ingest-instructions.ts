/**
 * `npm run bench:ingest-instructions`: what the ingest write costs Redis,
 * counted in machine instructions rather than timed. redis-server runs
 * under valgrind's callgrind (with AOF, everysec, as `npm start` runs it);
 * this process calls `appendSamples` (the ingest script) in the shapes the
 * pipeline sends, and callgrind counts every instruction Redis executes
 * over the measured calls (counters zeroed after a warm-up, dumped after).
 * An instruction count does not move with what else the machine is doing,
 * so two versions of the script can be compared on a busy machine, where
 * timings of a few microseconds cannot; it does not see cache misses (a
 * keyspace of millions of keys costs more than it counts).
 *
 * Baselines in the same run: the same samples as a pipeline of plain XADDs
 * (no script, no idempotency, no ordering), and the script with samples
 * that carry no id (no idempotency marks).
 *
 *   npm run bench:ingest-instructions
 *   npm run bench:ingest-instructions -- --calls 200 --shapes 62x12,8x8
 *   npm run bench:ingest-instructions -- --keep /tmp/ir   # then callgrind_annotate /tmp/ir/...
 *
 * A shape NxS is N samples per script call over S strategies: 62x12 is one
 * partition's share of a 500-sample POST over 100 strategies with P = 8
 * (bench:pipeline's maximum), 8x8 its half-load share. NxS/P is a whole
 * batch of N samples over S strategies written to a pipeline of P
 * partitions, as a POST is: 500x100/8 the maximum's POST, 85x85/8 the half
 * load's, 10x10/8 one at 2,000 samples/s (200 POSTs a second). Needs valgrind
 * (Debian's package) and redis-server on the PATH. Prints instructions per
 * sample; each figure is one run (the count repeats to within ~1 %).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { appendSamples } from '../packages/shared/src/publish-samples.js';
import type { StrategySample } from '../packages/shared/src/schemas/strategy-sample.js';
import { encodeEntry } from '../packages/shared/src/stream-codec.js';
import { killOnExit, removeOnExit } from '../scripts/exit-reaper.js';
import { freePort, redisServerArgs } from '../scripts/local-redis.js';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '50' },
    shapes: { type: 'string', default: '62x12,8x8' },
    /** Keep each callgrind dump in this folder (for callgrind_annotate). */
    keep: { type: 'string' },
  },
});
const CALLS = Number(args.calls);
const WARMUP = Number(args.warmup);
const shapes = args.shapes.split(',').map((s) => {
  const [shape = '', parts = '1'] = s.split('/');
  const [n, strategies] = shape.split('x').map(Number);
  const partitions = Number(parts);
  if (!n || !strategies || !Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`--shapes: "${s}" is not NxS or NxS/P (samples x strategies / partitions)`);
  }
  return { n, strategies, partitions };
});
for (const tool of ['valgrind', 'callgrind_control', 'redis-server']) {
  if (spawnSync('which', [tool]).status !== 0) {
    console.error(`bench:ingest-instructions needs ${tool} (apt-get install -y valgrind)`);
    process.exit(2);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const T0 = 1_767_225_600_000;
let seq = 0;

/** One call's samples: ts rising, ids unique (or none). */
function batch(n: number, strategies: number, withIds: boolean): StrategySample[] {
  return Array.from({ length: n }, (_, j) => {
    seq++;
    const s: StrategySample = {
      strategy: `strat-${j % strategies}`,
      ts: T0 + seq,
      return: ((seq * 7919) % 200) / 10_000 - 0.0099,
      benchmarkReturn: -0.0031,
      equity: 1_000_000 + seq,
      receivedAt: T0,
    };
    if (withIds) s.id = `${j % strategies}:${seq}`;
    return s;
  });
}

type Mode = 'xadd pipeline' | 'script, no ids' | 'script, ids';

/** Instructions per sample Redis executes for `calls` calls of one shape and mode. */
async function count(
  mode: Mode,
  n: number,
  strategies: number,
  partitions: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-bench-ir-'));
  const port = await freePort();
  const vg = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'callgrind.%p.out')}`,
      'redis-server',
      ...redisServerArgs(port, dir, 'aof-everysec'),
    ],
    { stdio: 'ignore' },
  );
  killOnExit(vg);
  const releaseDir = removeOnExit(dir);
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: null });
  redis.on('error', () => undefined);
  try {
    for (let i = 0; ; i++) {
      try {
        await redis.connect();
        await redis.ping();
        break;
      } catch {
        if (i > 300) throw new Error('redis-server under valgrind did not answer in 60 s');
        redis.disconnect();
        await sleep(200);
      }
    }
    const call = async (): Promise<void> => {
      const samples = batch(n, strategies, mode === 'script, ids');
      if (mode === 'xadd pipeline') {
        const p = redis.pipeline();
        for (const s of samples) p.xadd('plain', 'MAXLEN', '~', 1_000_000, '*', ...encodeEntry(s));
        await p.exec();
      } else {
        // As the collector calls it: outcomes only, no entry ids.
        await appendSamples(redis, 'ir', samples, { entryIds: false, partitions });
      }
    };
    for (let i = 0; i < WARMUP; i++) await call();
    const control = (what: string): void => {
      const r = spawnSync('callgrind_control', [what, String(vg.pid)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`callgrind_control ${what}: ${r.stderr}`);
    };
    control('--zero');
    for (let i = 0; i < CALLS; i++) await call();
    control('--dump');
    const dump = readdirSync(dir).find((f) => f.startsWith('callgrind.') && /\.out\.\d+$/.test(f));
    if (!dump) throw new Error(`no callgrind dump in ${dir}`);
    const totals = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'));
    if (!totals) throw new Error(`no totals in ${dump}`);
    if (args.keep) {
      mkdirSync(args.keep, { recursive: true });
      copyFileSync(
        join(dir, dump),
        join(args.keep, `${n}x${strategies}p${partitions}-${mode.replace(/\W+/g, '-')}.out`),
      );
    }
    return Number(totals[1]) / (CALLS * n);
  } finally {
    await redis.shutdown('NOSAVE').catch(() => undefined);
    redis.disconnect();
    await new Promise((r) => (vg.exitCode === null ? vg.once('exit', r) : r(undefined)));
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  }
}

const modes: Mode[] = ['xadd pipeline', 'script, no ids', 'script, ids'];
console.log(
  `\nbench:ingest-instructions  Redis instructions per sample (callgrind, AOF everysec), ${CALLS} calls after ${WARMUP}\n`,
);
console.log(`${'shape'.padEnd(44)}${modes.map((m) => m.padStart(16)).join('')}`);
for (const { n, strategies, partitions } of shapes) {
  const row: string[] = [];
  for (const mode of modes)
    row.push(Math.round(await count(mode, n, strategies, partitions)).toLocaleString('en-US'));
  const label =
    partitions > 1
      ? `${n} per batch, ${strategies} strategies, ${partitions} partitions`
      : `${n} per call, ${strategies} strategies`;
  console.log(`${label.padEnd(44)}${row.map((r) => r.padStart(16)).join('')}`);
}
process.exit(0);
