/**
 * `npm run bench:historian`: how fast history can be written, to choose the
 * PostgreSQL client by measurement (docs/history.md), and how fast the
 * historian catches up with a backlog.
 *
 * 1. Client x method: ROWS score-update rows (the real JSON, ~1 KB) written
 *    in batches of BATCH, idempotently (ON CONFLICT DO NOTHING on
 *    (part, entry_id)), each into a fresh table:
 *    - postgres (postgres.js) and pg (node-postgres): one multi-row INSERT
 *      per batch over unnest()ed arrays (what the historian does);
 *    - pg + pg-copy-streams, and postgres.js's COPY: COPY into a temporary
 *      staging table, then INSERT ... SELECT ... ON CONFLICT DO NOTHING.
 *    Printed as rows/s.
 * 2. Catch-up: what the pipeline writes for CATCHUP posted samples already
 *    in the streams (8 partitions, 100 strategies): every strategy sample,
 *    one score update per `--scores-every` samples (the scorer conflates:
 *    one update per strategy per read batch) and a host sample per 1,000;
 *    then a historian started: samples/s and entries/s until the group has
 *    nothing pending (every entry committed and acknowledged), and the CPU
 *    the historian and PostgreSQL spent per entry (from /proc: comparable
 *    on a busy machine, where wall-clock rates are not).
 *
 * DATABASE_URL and REDIS_URL when set, else an embedded PostgreSQL and a
 * redis-server of its own. `--rows N`, `--batch N`, `--catchup N`,
 * `--scores-every N`, `--skip-clients` (catch-up only), `--historian FILE`
 * (another historian's main.ts, e.g. a copy of an older version, to compare
 * in the same run), `--rounds N` (catch-ups one after the other, each into
 * a fresh database), `--cpu-prof DIR` (the historian's CPU profile).
 *
 * 3. `--paced RATE` (instead of 2): the historian running first, then the
 *    same mix written at RATE samples/s for `--seconds` (in 100 ms steps),
 *    as the pipeline writes it while the historian keeps up: its largest
 *    lag, the time to drain after, and the CPU the historian and PostgreSQL
 *    spent per entry. Keeping up means many small rounds, where fixed
 *    costs per round (round trips, rollup merges of every active strategy)
 *    weigh more than in a catch-up; this measures them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { encodeEntry, HISTORIAN_GROUP, keysFor, METRIC_NAMES, partitionOf } from '@quantmon/shared';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres.js';
import { freePort, spawnRedisServer } from '../scripts/local-redis.js';
import { copierLag, sourceGroups } from '../services/historian/src/stream-copier.js';
import { scoreUpdate } from '../test/helpers/score-fixtures.js';
import { cpuSeconds } from './collector-support.js';
import { postgresCpu } from './pipeline-history.js';
import { killOnExit } from '../scripts/exit-reaper.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '1000' },
    catchup: { type: 'string', default: '50000' },
    'scores-every': { type: 'string', default: '10' },
    'skip-clients': { type: 'boolean', default: false },
    historian: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
    paced: { type: 'string' },
    seconds: { type: 'string', default: '20' },
  },
});
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
const CATCHUP = Number(values.catchup);
const SCORES_EVERY = Number(values['scores-every']);
const HISTORIANS = values.historian ?? ['services/historian/src/main.ts'];
const ROUNDS = Number(values.rounds);
const PARTITIONS = 8;

interface Row {
  part: number;
  id: string;
  strategy: string;
  ts: number;
  data: string;
}

function rows(n: number, salt: number): Row[] {
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  return Array.from({ length: n }, (_, i) => {
    const u = scoreUpdate(`s${i % 50}`, i, { sharpeRatio: 1 + i / n, valueAtRisk: -0.02 });
    return {
      part: i % PARTITIONS,
      id: `${t0 + salt + i}-0`,
      strategy: u.strategy,
      ts: u.ts,
      data: JSON.stringify(u),
    };
  });
}

const TABLE = (name: string): string => `create table ${name} (
  part int not null, entry_id text not null, strategy text not null, ts bigint not null,
  data jsonb not null, primary key (part, entry_id))`;
const UNNEST = (name: string): string => `insert into ${name} (part, entry_id, strategy, ts, data)
  select part, entry_id, strategy, ts, data::jsonb
  from unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::text[])
    as t(part, entry_id, strategy, ts, data)
  on conflict do nothing`;
const columns = (b: Row[]) => [
  b.map((r) => r.part),
  b.map((r) => r.id),
  b.map((r) => r.strategy),
  b.map((r) => r.ts),
  b.map((r) => r.data),
];
const tsv = (b: Row[]): string =>
  b
    .map(
      (r) =>
        `${r.part}\t${r.id}\t${r.strategy}\t${r.ts}\t${r.data.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n')}\n`,
    )
    .join('');

function batches(all: Row[]): Row[][] {
  const out: Row[][] = [];
  for (let i = 0; i < all.length; i += BATCH) out.push(all.slice(i, i + BATCH));
  return out;
}

async function time(label: string, run: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await run();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const rate = ROWS / s;
  process.stdout.write(
    `  ${label.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(9)} rows/s\n`,
  );
  return rate;
}

async function createDatabase(url: string): Promise<string> {
  const dbName = `qm_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${dbName}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** 1. Client x method. */
async function clientBench(dbUrl: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  process.stdout.write(
    `history write bench: ${ROWS} rows of ~${rows(1, 0)[0]!.data.length} bytes, batches of ${BATCH}\n`,
  );

  await sql.unsafe(TABLE('b_postgres_unnest'));
  const a = rows(ROWS, 0);
  await time('postgres (postgres.js), INSERT unnest', async () => {
    for (const b of batches(a))
      await sql.unsafe(UNNEST('b_postgres_unnest'), columns(b) as never[]);
  });

  await client.query(TABLE('b_pg_unnest'));
  await time('pg (node-postgres), INSERT unnest', async () => {
    for (const b of batches(a)) await client.query(UNNEST('b_pg_unnest'), columns(b));
  });

  await client.query(TABLE('b_pg_copy'));
  await time('pg + pg-copy-streams, COPY + INSERT SELECT', async () => {
    for (const b of batches(a)) {
      await client.query('begin');
      await client.query('create temp table stage (like b_pg_copy) on commit drop');
      await pipeline(Readable.from([tsv(b)]), client.query(copyFrom('copy stage from stdin')));
      await client.query('insert into b_pg_copy select * from stage on conflict do nothing');
      await client.query('commit');
    }
  });

  await sql.unsafe(TABLE('b_postgres_copy'));
  await time('postgres (postgres.js), COPY + INSERT SELECT', async () => {
    for (const b of batches(a)) {
      await sql.begin(async (tx) => {
        await tx.unsafe('create temp table stage (like b_postgres_copy) on commit drop');
        const w = await tx.unsafe('copy stage from stdin').writable();
        await pipeline(Readable.from([tsv(b)]), w);
        await tx.unsafe('insert into b_postgres_copy select * from stage on conflict do nothing');
      });
    }
  });

  await time('postgres.js, the same rows again (all conflicts)', async () => {
    for (const b of batches(a))
      await sql.unsafe(UNNEST('b_postgres_unnest'), columns(b) as never[]);
  });
  await client.end();
  await sql.end();
}

/** Every metric measured (a real update carries numbers, not nulls). */
const METRICS = Object.fromEntries(METRIC_NAMES.map((n, i) => [n, 0.001 * (i + 1)]));

/** Queue the pipeline's entries for posted sample j (sample, score update, host sample); answers how many. */
function addSample(
  tx: ReturnType<Redis['pipeline']>,
  prefix: string,
  j: number,
  ts: number,
): number {
  const keys = keysFor(prefix);
  const strategy = `strat-${j % 100}`;
  const part = keys.partition(partitionOf(strategy, PARTITIONS));
  const sample = {
    strategy,
    ts,
    return: 0.0012 * Math.sin(j),
    benchmarkReturn: -0.0031,
    equity: 1_000_000 + j,
    id: `${strategy}:${j}`,
    receivedAt: ts,
  };
  tx.xadd(part.strategySamples, '*', ...encodeEntry(sample));
  let entries = 1;
  if (j % SCORES_EVERY === 0) {
    const u = scoreUpdate(strategy, j, METRICS as never, j + 30);
    tx.xadd(part.scores, '*', ...encodeEntry(u));
    entries++;
  }
  if (j % 1000 === 0) {
    const host = `host-${(j / 1000) % 2}`;
    const s = { host, ts, cpu: 12.5, memory: 40.1, disk: 55, load1: 1.2, netInBytesPerSec: 1e5 };
    tx.xadd(keys.partition(partitionOf(host, PARTITIONS)).systemSamples, '*', ...encodeEntry(s));
    entries++;
  }
  return entries;
}

/** The streams' content for CATCHUP posted samples; answers the entries written. */
async function fillStreams(redis: Redis, prefix: string): Promise<number> {
  await redis.set(keysFor(prefix).partitionCount, String(PARTITIONS));
  const t0 = Date.now() - CATCHUP;
  let entries = 0;
  for (let i = 0; i < CATCHUP; i += 5000) {
    const tx = redis.pipeline();
    for (let j = i; j < Math.min(CATCHUP, i + 5000); j++)
      entries += addSample(tx, prefix, j, t0 + j);
    await tx.exec();
  }
  return entries;
}

interface CatchUp {
  historian: string;
  seconds: number;
  entries: number;
  historianCpu: number;
  postgresCpu: number;
}

/** A historian process on `prefix` and `dbUrl`. */
async function spawnHistorian(main: string, redisUrl: string, prefix: string, dbUrl: string) {
  const port = await freePort();
  const profile = values['cpu-prof']
    ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])]
    : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', main], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(PARTITIONS),
      DATABASE_URL: dbUrl,
      HISTORIAN_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  killOnExit(child);
  return child;
}

/** 3. The historian keeping up with RATE samples/s for SECONDS. */
async function paced(
  main: string,
  pgUrl: string,
  redisUrl: string,
  postmaster: number | undefined,
  rate: number,
): Promise<CatchUp & { maxLag: number; drainSeconds: number }> {
  const dbUrl = await createDatabase(pgUrl);
  const prefix = `bench-hist-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl);
  const keys = keysFor(prefix);
  await redis.set(keys.partitionCount, String(PARTITIONS));
  for (const g of sourceGroups(keys, PARTITIONS))
    for (const s of g) await redis.xgroup('CREATE', s.key, HISTORIAN_GROUP, '0', 'MKSTREAM');
  const proc = await spawnHistorian(main, redisUrl, prefix, dbUrl);
  // Ready once it has committed a first entry (start-up and migrations excluded).
  for (let j = 0; ; j++) {
    const tx = redis.pipeline();
    addSample(tx, prefix, 10_000_000 + j, Date.now());
    await tx.exec();
    await new Promise((r) => setTimeout(r, 200));
    const left = Object.values(await copierLag(redis, keys, PARTITIONS)).reduce((x, y) => x + y, 0);
    if (left === 0) break;
  }
  const h0 = cpuSeconds(proc.pid!);
  const pg0 = postgresCpu(postmaster);
  const t0 = performance.now();
  const seconds = Number(values.seconds);
  let entries = 0;
  let maxLag = 0;
  let sent = 0;
  let lastLag = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    const tx = redis.pipeline();
    for (; sent < due; sent++) entries += addSample(tx, prefix, sent, Date.now());
    await tx.exec();
    if (performance.now() - lastLag > 250) {
      lastLag = performance.now();
      const lag = Object.values(await copierLag(redis, keys, PARTITIONS)).reduce(
        (x, y) => x + y,
        0,
      );
      maxLag = Math.max(maxLag, lag);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const fed = performance.now();
  for (;;) {
    const left = Object.values(await copierLag(redis, keys, PARTITIONS)).reduce((x, y) => x + y, 0);
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const drainSeconds = (performance.now() - fed) / 1000;
  const result = {
    historian: main,
    seconds: (performance.now() - t0) / 1000,
    entries,
    historianCpu: cpuSeconds(proc.pid!) - h0,
    postgresCpu: postgresCpu(postmaster) - pg0,
    maxLag,
    drainSeconds,
  };
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  await redis.del(...(await redis.keys(`${prefix}:*`)));
  redis.disconnect();
  return result;
}

/** 2. A historian process on a backlog, in a fresh database under a fresh prefix. */
async function catchUp(
  main: string,
  pgUrl: string,
  redisUrl: string,
  postmaster: number | undefined,
): Promise<CatchUp> {
  const dbUrl = await createDatabase(pgUrl);
  const prefix = `bench-hist-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl);
  const entries = await fillStreams(redis, prefix);
  // The group made here, as the historian would, so its lag counts from the start.
  const keys = keysFor(prefix);
  for (const g of sourceGroups(keys, PARTITIONS))
    for (const s of g) await redis.xgroup('CREATE', s.key, HISTORIAN_GROUP, '0', 'MKSTREAM');
  const proc = await spawnHistorian(main, redisUrl, prefix, dbUrl);
  // From the first committed round (start-up and migrations excluded) until nothing is left.
  let started: { at: bigint; left: number; hCpu: number; pgCpu: number } | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const lag = await copierLag(redis, keys, PARTITIONS);
    const left = Object.values(lag).reduce((x, y) => x + y, 0);
    if (started === undefined && left < entries) {
      started = {
        at: process.hrtime.bigint(),
        left,
        hCpu: cpuSeconds(proc.pid!),
        pgCpu: postgresCpu(postmaster),
      };
    }
    if (left === 0) break;
  }
  const seconds = Number(process.hrtime.bigint() - started!.at) / 1e9;
  const result: CatchUp = {
    historian: main,
    seconds,
    entries: started!.left,
    historianCpu: cpuSeconds(proc.pid!) - started!.hCpu,
    postgresCpu: postgresCpu(postmaster) - started!.pgCpu,
  };
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  const check = new pg.Client({ connectionString: dbUrl });
  await check.connect();
  const { rows: got } = await check.query<{ s: number; u: number }>(
    'select (select count(*)::int from strategy_samples) as s, (select count(*)::int from score_updates) as u',
  );
  await check.end();
  const want = { s: CATCHUP, u: Math.ceil(CATCHUP / SCORES_EVERY) };
  if (got[0]?.s !== want.s || got[0]?.u !== want.u)
    throw new Error(`rows ${JSON.stringify(got[0])}, expected ${JSON.stringify(want)}`);
  await redis.del(...(await redis.keys(`${prefix}:*`)));
  redis.disconnect();
  return result;
}

async function main(): Promise<void> {
  let dataDir: string | undefined;
  let stopPg: (() => Promise<void>) | undefined;
  let postmaster: number | undefined;
  let url = process.env['DATABASE_URL'];
  if (!url) {
    dataDir = join(tmpdir(), `quantmon-bench-pg-${randomBytes(4).toString('hex')}`);
    const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    url = server.url;
    stopPg = server.stop;
    postmaster = server.process().pid;
  }
  if (!values['skip-clients']) await clientBench(await createDatabase(url));

  let redisUrl = process.env['REDIS_URL'];
  let stopRedis: (() => Promise<void>) | undefined;
  if (!redisUrl) {
    const r = await spawnRedisServer({ persistence: 'none' });
    redisUrl = r.url;
    stopRedis = r.dispose;
  }
  const perSample = 1 + 1 / SCORES_EVERY;
  if (values.paced) {
    const rate = Number(values.paced);
    process.stdout.write(
      `historian keeping up: ${rate} samples/s for ${values.seconds} s (a score update per ${SCORES_EVERY} ` +
        `samples, a host sample per 1,000; CPU µs per entry from /proc over the feed and the drain)\n`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      for (const h of HISTORIANS) {
        const r = await paced(h, url, redisUrl, postmaster, rate);
        process.stdout.write(
          `  round ${round} ${h.padEnd(40)} largest lag ${r.maxLag.toLocaleString('en')} entries, ` +
            `drained ${r.drainSeconds.toFixed(1)} s after; CPU µs per entry: historian ` +
            `${((r.historianCpu * 1e6) / r.entries).toFixed(1)}, PostgreSQL ${((r.postgresCpu * 1e6) / r.entries).toFixed(1)}\n`,
        );
      }
    }
    await stopRedis?.();
    await stopPg?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    return;
  }
  process.stdout.write(
    `historian catch-up: ${CATCHUP} samples in the streams, a score update per ${SCORES_EVERY} samples ` +
      `and a host sample per 1,000 (rows and 1 min / 1 h rollups; CPU µs per entry from /proc` +
      `${postmaster === undefined ? ', PostgreSQL not measured (DATABASE_URL)' : ''})\n`,
  );
  const results: CatchUp[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const h of HISTORIANS) {
      const r = await catchUp(h, url, redisUrl, postmaster);
      results.push(r);
      const rate = r.entries / r.seconds;
      process.stdout.write(
        `  round ${round} ${h.padEnd(40)} ${Math.round(rate).toLocaleString('en').padStart(7)} entries/s ` +
          `= ${Math.round(rate / perSample)
            .toLocaleString('en')
            .padStart(7)} samples/s; ` +
          `CPU µs per entry: historian ${((r.historianCpu * 1e6) / r.entries).toFixed(1)}, ` +
          `PostgreSQL ${((r.postgresCpu * 1e6) / r.entries).toFixed(1)}\n`,
      );
    }
  }
  if (ROUNDS > 1) {
    for (const h of HISTORIANS) {
      const rates = results.filter((r) => r.historian === h).map((r) => r.entries / r.seconds);
      const median = rates.sort((x, y) => x - y)[Math.floor(rates.length / 2)]!;
      process.stdout.write(
        `  median ${h.padEnd(39)} ${Math.round(median).toLocaleString('en').padStart(7)} entries/s\n`,
      );
    }
  }
  await stopRedis?.();
  await stopPg?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

await main();
