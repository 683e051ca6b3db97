import { keysFor, partitionOf, type HistorySeriesPage, type ScoreUpdate } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHistory, type HistoryDb } from '../../services/historian/src/database.js';
import { rows as query, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { scoreUpdate } from '../helpers/score-fixtures.js';
import { startService, type RunningService } from '../helpers/services.js';
import {
  PARTITIONS,
  startHistorian,
  waitAllCopied,
  writeScores,
  type RunningHistorian,
} from './historian-harness.js';

/**
 * Strategy tags in the history: stored with each score update (queryable in
 * SQL), and a `tag:desk=rates` topic on /api/history served from PostgreSQL
 * once the streams no longer hold the entries, raw and by step.
 */
let redis: TestRedis;
let pg: TestPostgres;
let client: Redis;
let sql: HistoryDb;
let gateway: RunningService;
let historian: RunningHistorian;
const prefix = uniquePrefix('hist-tags');
const keys = keysFor(prefix);

beforeAll(async () => {
  [redis, pg] = await Promise.all([startTestRedis(), startPostgres()]);
  client = new Redis(redis.url);
  const env = {
    REDIS_URL: redis.url,
    QUANTMON_PREFIX: prefix,
    PARTITIONS: String(PARTITIONS),
    DATABASE_URL: pg.url,
    HISTORIAN_POLL_MS: '20',
  };
  historian = await startHistorian(env);
  gateway = await startService('gateway', env);
  sql = connectHistory(pg.url);
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
  await historian?.stop();
  await sql?.end();
  client?.disconnect();
  await pg?.dispose();
  await redis?.dispose();
});

const tagged = (strategy: string, seq: number, desk: string): ScoreUpdate => ({
  ...scoreUpdate(strategy, seq, { sharpeRatio: seq }),
  tags: { desk },
});

describe('tags in the history', () => {
  it('keeps each update with its tags and serves a tag topic from PostgreSQL, raw and by step', async () => {
    const updates = [0, 1, 2].flatMap((i) => [
      tagged('ust-10y', i, 'rates'),
      tagged('bund', i, 'rates'),
      tagged('eurusd', i, 'fx'),
    ]);
    const copied = await writeScores(client, keys, updates);
    await waitAllCopied(sql, copied);
    const byDesk = await query<{ desk: string; n: number }>(
      sql as never,
      `select data->'tags'->>'desk' as desk, count(*)::int as n from score_updates group by 1 order by 1`,
    );
    expect(byDesk).toEqual([
      { desk: 'fx', n: 3 },
      { desk: 'rates', n: 6 },
    ]);
    // The streams forget everything: the answers come from the database alone.
    await historian.stop();
    for (let p = 0; p < PARTITIONS; p++) await client.del(keys.partition(p).scores);
    expect(partitionOf('ust-10y', PARTITIONS)).toBeGreaterThanOrEqual(0);

    const raw = await fetch(
      `http://127.0.0.1:${gateway.port}/api/history?topic=${encodeURIComponent('tag:desk=rates')}&from=0&limit=1000`,
    );
    expect(raw.status).toBe(200);
    const page = (await raw.json()) as HistorySeriesPage;
    const strategies = page.points.map((p) => (p.data as ScoreUpdate).strategy);
    expect(strategies.sort()).toEqual(['bund', 'bund', 'bund', 'ust-10y', 'ust-10y', 'ust-10y']);

    const stepped = await fetch(
      `http://127.0.0.1:${gateway.port}/api/history?topic=${encodeURIComponent('tag:desk=fx')}&from=0&step=1h`,
    );
    expect(stepped.status).toBe(200);
    const steps = (await stepped.json()) as HistorySeriesPage;
    expect(steps.points.length).toBeGreaterThan(0);
    expect(steps.points.every((p) => (p.data as ScoreUpdate).strategy === 'eurusd')).toBe(true);
  });
});
