import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { connectHistory, type HistoryDb } from '../../services/historian/src/database.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually } from '../helpers/services.js';
import {
  PARTITIONS,
  scoreLoad,
  startHistorian,
  waitAllCopied,
  type RunningHistorian,
} from './historian-harness.js';

/**
 * The historian under load, hurt: SIGKILLed and restarted, and PostgreSQL
 * stopped and started. Afterwards every entry the streams carried has
 * exactly one row: no gap, no duplicate.
 */

let redis: TestRedis;
let pg: TestPostgres;
let client: Redis;
let sql: HistoryDb;
const running: RunningHistorian[] = [];

beforeAll(async () => {
  [redis, pg] = await Promise.all([startTestRedis(), startPostgres()]);
  client = new Redis(redis.url);
  sql = connectHistory(pg.url);
});
afterAll(async () => {
  await Promise.all(running.map((h) => h.stop()));
  await sql?.end();
  client?.disconnect();
  await pg?.dispose();
  await redis?.dispose();
});

function env(prefix: string): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    QUANTMON_PREFIX: prefix,
    PARTITIONS: String(PARTITIONS),
    DATABASE_URL: pg.url,
    HISTORIAN_POLL_MS: '20',
    HISTORIAN_BATCH: '200',
    // A SIGKILLed historian's pending entries are claimed by the next one after this long.
    HISTORIAN_CLAIM_IDLE_MS: '1500',
  };
}

async function start(prefix: string): Promise<RunningHistorian> {
  const h = await startHistorian(env(prefix));
  running.push(h);
  return h;
}

async function rowsWritten(h: RunningHistorian): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${h.port}/metrics`).then((r) => r.text());
  const m = /quantmon_historian_rows_written_total\{table="score_updates"[^}]*\} (\d+)/.exec(text);
  return Number(m?.[1] ?? 0);
}

describe('historian resilience', () => {
  it('SIGKILLed under load and restarted: every entry once, none missing', async () => {
    const prefix = uniquePrefix('hist-kill');
    await sql.query('truncate score_updates').catch(() => undefined);
    const first = await start(prefix);
    const load = scoreLoad(client, prefix, { rounds: 40, perRound: 50, everyMs: 25 });
    // Kill it once it has demonstrably written part of the load, mid-stream.
    await eventually(async () => ((await rowsWritten(first)) > 300 ? true : undefined), 30_000);
    await first.kill();
    const second = await start(prefix);
    const written = await load;
    const rows = await waitAllCopied(sql, written);
    expect(rows.size).toBe(written.length);
    expect([...rows.values()].every((n) => n === 1)).toBe(true);
    // Nothing left pending in the group: everything copied was acknowledged.
    const keys = keysFor(prefix);
    await eventually(
      async () => {
        let pending = 0;
        for (let p = 0; p < PARTITIONS; p++) {
          const [n] = (await client.xpending(keys.partition(p).scores, 'historian')) as [number];
          pending += n;
        }
        return pending === 0 ? true : undefined;
      },
      30_000,
      'no pending entries',
    );
    await second.stop();
  });

  it('two replicas share the streams; one SIGKILLed, the other claims its entries: every entry once', async () => {
    const prefix = uniquePrefix('hist-two');
    const [a, b] = await Promise.all([start(prefix), start(prefix)]);
    const load = scoreLoad(client, prefix, { rounds: 40, perRound: 50, everyMs: 25 });
    await eventually(
      async () => ((await rowsWritten(a)) + (await rowsWritten(b)) > 300 ? true : undefined),
      30_000,
    );
    await a.kill();
    const written = await load;
    const rows = await waitAllCopied(sql, written, 90_000);
    expect(written.every((w) => rows.get(`${w.part}/${w.id}`) === 1)).toBe(true);
    const keys = keysFor(prefix);
    await eventually(
      async () => {
        let pending = 0;
        for (let p = 0; p < PARTITIONS; p++) {
          const [n] = (await client.xpending(keys.partition(p).scores, 'historian')) as [number];
          pending += n;
        }
        return pending === 0 ? true : undefined;
      },
      30_000,
      "no pending entries (the survivor claimed the dead one's)",
    );
    await b.stop();
  });

  it('PostgreSQL stopped and started under load: waits, catches up, loses nothing', async (ctx: TestContext) => {
    if (!pg.server)
      ctx.skip('DATABASE_URL is external: this test stops and starts its own PostgreSQL');
    const server = pg.server!;
    const prefix = uniquePrefix('hist-pg');
    const h = await start(prefix);
    const load = scoreLoad(client, prefix, { rounds: 40, perRound: 50, everyMs: 25 });
    await eventually(async () => ((await rowsWritten(h)) > 300 ? true : undefined), 30_000);
    await sql.end();
    await server.stop();
    // While it is down the load goes on; the historian reports itself unhealthy and retries.
    await eventually(
      async () =>
        (await fetch(`http://127.0.0.1:${h.port}/healthz`)).status === 503 ? true : undefined,
      30_000,
      'the historian to report PostgreSQL down',
    );
    const written = await load;
    await server.start();
    sql = connectHistory(pg.url);
    const rows = await waitAllCopied(sql, written, 90_000);
    const mine = written.filter((w) => rows.has(`${w.part}/${w.id}`));
    expect(mine).toHaveLength(written.length);
    expect([...rows.values()].every((n) => n === 1)).toBe(true);
    await eventually(
      async () =>
        (await fetch(`http://127.0.0.1:${h.port}/healthz`)).status === 200 ? true : undefined,
      30_000,
      'the historian healthy again',
    );
  });
});
