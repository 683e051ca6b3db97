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
 * 2. Catch-up: CATCHUP score updates already in the streams (8 partitions),
 *    then a historian started: entries/s until every one has its row.
 *
 * DATABASE_URL and REDIS_URL when set, else an embedded PostgreSQL and a
 * redis-server of its own. `--rows N`, `--batch N`, `--catchup N`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { encodeEntry, keysFor, partitionOf } from '@quantmon/shared';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres.js';
import { freePort, spawnRedisServer } from '../scripts/local-redis.js';
import { scoreUpdate } from '../test/helpers/score-fixtures.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '1000' },
    catchup: { type: 'string', default: '50000' },
  },
});
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
const CATCHUP = Number(values.catchup);
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

async function main(): Promise<void> {
  let dataDir: string | undefined;
  let stopPg: (() => Promise<void>) | undefined;
  let url = process.env['DATABASE_URL'];
  if (!url) {
    dataDir = join(tmpdir(), `quantmon-bench-pg-${randomBytes(4).toString('hex')}`);
    const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    url = server.url;
    stopPg = server.stop;
  }
  const dbName = `qm_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${dbName}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();

  const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  process.stdout.write(
    `history write bench: ${ROWS} rows of ~${rows(1, 0)[0]!.data.length} bytes, batches of ${BATCH}\n`,
  );
  const results: Record<string, number> = {};

  await sql.unsafe(TABLE('b_postgres_unnest'));
  const a = rows(ROWS, 0);
  results['postgres unnest'] = await time('postgres (postgres.js), INSERT unnest', async () => {
    for (const b of batches(a))
      await sql.unsafe(UNNEST('b_postgres_unnest'), columns(b) as never[]);
  });

  await client.query(TABLE('b_pg_unnest'));
  results['pg unnest'] = await time('pg (node-postgres), INSERT unnest', async () => {
    for (const b of batches(a)) await client.query(UNNEST('b_pg_unnest'), columns(b));
  });

  await client.query(TABLE('b_pg_copy'));
  results['pg copy'] = await time('pg + pg-copy-streams, COPY + INSERT SELECT', async () => {
    for (const b of batches(a)) {
      await client.query('begin');
      await client.query('create temp table stage (like b_pg_copy) on commit drop');
      await pipeline(Readable.from([tsv(b)]), client.query(copyFrom('copy stage from stdin')));
      await client.query('insert into b_pg_copy select * from stage on conflict do nothing');
      await client.query('commit');
    }
  });

  await sql.unsafe(TABLE('b_postgres_copy'));
  results['postgres copy'] = await time(
    'postgres (postgres.js), COPY + INSERT SELECT',
    async () => {
      for (const b of batches(a)) {
        await sql.begin(async (tx) => {
          await tx.unsafe('create temp table stage (like b_postgres_copy) on commit drop');
          const w = await tx.unsafe('copy stage from stdin').writable();
          await pipeline(Readable.from([tsv(b)]), w);
          await tx.unsafe('insert into b_postgres_copy select * from stage on conflict do nothing');
        });
      }
    },
  );

  results['postgres unnest replay'] = await time(
    'postgres.js, the same rows again (all conflicts)',
    async () => {
      for (const b of batches(a))
        await sql.unsafe(UNNEST('b_postgres_unnest'), columns(b) as never[]);
    },
  );
  await client.end();
  await sql.end();

  // 2. Catch-up of a real historian process.
  let redisUrl = process.env['REDIS_URL'];
  let stopRedis: (() => Promise<void>) | undefined;
  if (!redisUrl) {
    const r = await spawnRedisServer({ persistence: 'none' });
    redisUrl = r.url;
    stopRedis = r.dispose;
  }
  const prefix = `bench-hist-${randomBytes(3).toString('hex')}`;
  const keys = keysFor(prefix);
  const redis = new Redis(redisUrl);
  await redis.set(keys.partitionCount, String(PARTITIONS));
  for (let i = 0; i < CATCHUP; i += 5000) {
    const tx = redis.pipeline();
    for (let j = i; j < Math.min(CATCHUP, i + 5000); j++) {
      const u = scoreUpdate(`s${j % 50}`, j, { sharpeRatio: 1, valueAtRisk: -0.02 });
      tx.xadd(keys.partition(partitionOf(u.strategy, PARTITIONS)).scores, '*', ...encodeEntry(u));
    }
    await tx.exec();
  }
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'services/historian/src/main.ts'], {
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
  const check = postgres(dbUrl, { max: 1, onnotice: () => undefined });
  let n: number;
  let started: bigint | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const got = await check`select count(*)::int as n from score_updates`.catch(() => undefined);
    n = got?.[0]?.['n'] ?? 0;
    if (n > 0 && started === undefined) started = process.hrtime.bigint();
    if (n >= CATCHUP) break;
  }
  const done = process.hrtime.bigint();
  const total = Number(done - t0) / 1e9;
  const copying = Number(done - (started ?? t0)) / 1e9;
  process.stdout.write(
    `historian catch-up: ${CATCHUP} score updates in the streams: ${total.toFixed(1)} s from process start ` +
      `(${Math.round(CATCHUP / copying).toLocaleString('en')} entries/s once copying; rows and 1 min / 1 h rollups)\n`,
  );
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  await check.end();
  redis.disconnect();
  await stopRedis?.();
  await stopPg?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

await main();
