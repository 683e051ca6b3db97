import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AlertEvent,
  encodeEntry,
  HISTORIAN_GROUP,
  keysFor,
  partitionOf,
  type HistorySeriesPage,
  type AlertsResponse,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHistory, type HistoryDb } from '../../services/historian/src/database.js';
import { HistoryWriter } from '../../services/historian/src/history-writer.js';
import { emptyBatch } from '../../services/historian/src/rows.js';
import { ARTIFACTS, launchBrowser } from '../helpers/browser.js';
import { rows as query, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { scoreUpdate } from '../helpers/score-fixtures.js';
import { eventually, ROOT, startService, type RunningService } from '../helpers/services.js';
import {
  PARTITIONS,
  startHistorian,
  waitAllCopied,
  writeSamples,
  writeScores,
  type RunningHistorian,
} from './historian-harness.js';

/**
 * The gateway reading history: /api/history across the stream/database
 * boundary (streams trimmed as retention would), /api/alerts over the whole
 * trail, /api/export of 100k rows in bounded memory, /api/report in Chromium.
 */

let redis: TestRedis;
let pg: TestPostgres;
let client: Redis;
let sql: HistoryDb;
let gateway: RunningService;
let historian: RunningHistorian;
const prefix = uniquePrefix('hist-gw');
const keys = keysFor(prefix);
const base = (): string => `http://127.0.0.1:${gateway.port}`;
const retention = { rawDays: 14, samplesDays: 0, rollup1mDays: 90, rollup1hDays: 0 };

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
  historian = await startHistorian(env); // applies the migrations
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

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${base()}${path}`);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('history across the stream/database boundary', () => {
  it('serves every entry once after the streams lost the older half, raw and by step', async () => {
    const strategy = 'bnd';
    const scores = keys.partition(partitionOf(strategy, PARTITIONS)).scores;
    const updates = Array.from({ length: 300 }, (_, i) =>
      scoreUpdate(strategy, i, { sharpeRatio: i }),
    );
    const copied = await writeScores(client, keys, updates);
    await waitAllCopied(sql, copied);
    // Stop the historian: the next entries exist only in the stream.
    await historian.stop();
    const streamOnly = await writeScores(
      client,
      keys,
      Array.from({ length: 50 }, (_, i) =>
        scoreUpdate(strategy, 300 + i, { sharpeRatio: 300 + i }),
      ),
    );
    // Retention trims the stream's oldest 150 entries: they are now only in PostgreSQL.
    await client.xtrim(scores, 'MINID', copied[150]!.id);
    expect(await client.xlen(scores)).toBe(200);

    const all = [...copied, ...streamOnly].map((w) => w.id);
    const page = await getJson<HistorySeriesPage>(
      `/api/history?topic=strategy:${strategy}&from=0&limit=10000`,
    );
    expect(page.points.map((p) => p.pos)).toEqual(all);
    expect(page.truncated).toBe(false);

    const stepped = await getJson<HistorySeriesPage>(
      `/api/history?topic=strategy:${strategy}&from=0&step=1h`,
    );
    expect(stepped.resolution).toBe('1h');
    const lo = Math.min(...stepped.points.map((p) => p.min!['sharpeRatio']!));
    const hi = Math.max(...stepped.points.map((p) => p.max!['sharpeRatio']!));
    expect([lo, hi]).toEqual([0, 349]); // 0 only in PostgreSQL, 349 only in the stream
    expect(stepped.points.at(-1)!.pos).toBe(all.at(-1));

    historian = await startHistorian({
      REDIS_URL: redis.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(PARTITIONS),
      DATABASE_URL: pg.url,
      HISTORIAN_POLL_MS: '20',
    });
    await waitAllCopied(sql, streamOnly);
  });

  it('has no gap where the historian lags on one partition by more than five minutes', async () => {
    // The state a historian behind on one partition leaves: partition A copied
    // to the end, partition B read but only its first minutes committed (the
    // rest pending). The newest row in the database is then far past what B
    // has copied; the streams must take over where B's copy stops.
    const at = (s: string) => ({ s, p: partitionOf(s, PARTITIONS) });
    const a = at('lag0');
    const b = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => at(`lag${i}`)).find((x) => x.p !== a.p)!;
    await historian.stop();
    const t0 = Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000; // ids after any written so far
    const write = async (x: { s: string; p: number }) => {
      const key = keys.partition(x.p).scores;
      const out: { part: number; id: string; u: ReturnType<typeof scoreUpdate> }[] = [];
      for (let i = 0; i < 20; i++) {
        const u = scoreUpdate(x.s, i, { sharpeRatio: i });
        const id = (await client.xadd(key, `${t0 + i * 60_000}-0`, ...encodeEntry(u)))!;
        out.push({ part: x.p, id, u });
      }
      return out;
    };
    const onA = await write(a);
    const onB = await write(b);
    const writer = new HistoryWriter(sql, retention);
    const batch = emptyBatch();
    for (const e of [...onA, ...onB.slice(0, 5)])
      batch.scores.push({ part: e.part, id: e.id, value: e.u });
    await writer.write(batch);
    // The group: every entry delivered, A's and B's first five acknowledged.
    for (const key of new Set([...onA, ...onB].map((e) => keys.partition(e.part).scores))) {
      await client.xreadgroup(
        'GROUP',
        HISTORIAN_GROUP,
        'lagging',
        'COUNT',
        1000,
        'STREAMS',
        key,
        '>',
      );
    }
    await client.xack(
      keys.partition(onA[0]!.part).scores,
      HISTORIAN_GROUP,
      ...onA.map((e) => e.id),
    );
    await client.xack(
      keys.partition(onB[0]!.part).scores,
      HISTORIAN_GROUP,
      ...onB.slice(0, 5).map((e) => e.id),
    );

    const page = await getJson<HistorySeriesPage>(
      `/api/history?topic=strategy:*&from=${t0}&to=${t0 + 20 * 60_000}&limit=10000`,
    );
    const key = (p: HistorySeriesPage['points'][number]) => `${p.part ?? 0}/${p.pos}`;
    expect(page.points.map(key).sort()).toEqual(
      [...onA, ...onB].map((e) => `${e.part}/${e.id}`).sort(),
    );

    await client.xack(
      keys.partition(onB[0]!.part).scores,
      HISTORIAN_GROUP,
      ...onB.slice(5).map((e) => e.id),
    );
    historian = await startHistorian({
      REDIS_URL: redis.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(PARTITIONS),
      DATABASE_URL: pg.url,
      HISTORIAN_POLL_MS: '20',
    });
  });

  it('answers /api/alerts from the whole trail after the streams were flushed', async () => {
    const p = partitionOf('alrt', PARTITIONS);
    const t = Date.now();
    const event = (i: number): AlertEvent =>
      AlertEvent.parse({
        incidentId: `drawdown_exceeded.strategy_alrt.${i}`,
        rule: 'drawdown_exceeded',
        level: 'warning',
        subject: 'strategy/alrt',
        state: 'firing',
        value: -0.2,
        threshold: -0.1,
        metric: 'currentDrawdown',
        message: 'drawdown beyond 10 %',
        recommendation: 'reduce exposure',
        startsAt: t + i,
        endsAt: null,
        ts: t + i,
      });
    const tx = client.multi();
    for (let i = 0; i < 30; i++) tx.xadd(keys.partition(p).alerts, '*', ...encodeEntry(event(i)));
    await tx.exec();
    await eventually(async () => {
      const [r] = await query<{ n: number }>(
        sql,
        "select count(*)::int as n from alert_events where subject = 'strategy/alrt'",
      );
      return r!['n'] === 30 ? true : undefined;
    }, 30_000);
    await client.del(keys.partition(p).alerts); // as if Redis lost it all
    const res = await getJson<AlertsResponse>(`/api/alerts?from=0&limit=1000`);
    const mine = res.events.filter((e) => e.subject === 'strategy/alrt');
    expect(mine.map((e) => e.incidentId)).toEqual(
      Array.from({ length: 30 }, (_, i) => `drawdown_exceeded.strategy_alrt.${29 - i}`),
    );
  });
});

/** The export test's gateway heap limit: below the export's ~80 MB (and its strings' twice that). */
const HEAP_MB = 64;

describe('export', () => {
  it('streams 100k rows with bounded memory', async () => {
    const template = JSON.stringify(
      scoreUpdate('big', 0, { sharpeRatio: 1.5, valueAtRisk: -0.02 }),
    );
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    // Rows straight into the table (the historian's path is tested elsewhere): 100k minutes.
    await sql.query(
      `create table if not exists score_updates_bulk partition of score_updates
         for values from (0) to (1000000000000)`,
    );
    await sql.query(
      `insert into score_updates (at, part, entry_id, strategy, ts, data)
       select ${t0} / 1000000, 0, ${t0} + g::bigint * 60000 || '-0', 'big', ${t0} + g::bigint * 60000,
              jsonb_set($1::text::jsonb, '{ts}', to_jsonb(${t0} + g::bigint * 60000))
       from generate_series(0, 99999) g`,
      [template],
    );
    // A gateway whose heap is smaller than the export: holding the range would kill it.
    const small = await startService('gateway', {
      REDIS_URL: redis.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(PARTITIONS),
      DATABASE_URL: pg.url,
      NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=${HEAP_MB}`,
    });
    try {
      const res = await fetch(
        `http://127.0.0.1:${small.port}/api/export?kind=strategy&id=big&from=${t0}&to=${t0 + 1e11}&format=jsonl`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
      let lines = 0;
      let bytes = 0;
      let first: string | undefined;
      let rest = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) {
        bytes += chunk.byteLength;
        const text = rest + decoder.decode(chunk, { stream: true });
        const parts = text.split('\n');
        rest = parts.pop()!;
        first ??= parts[0];
        lines += parts.length;
      }
      expect(lines).toBe(100_000);
      expect(JSON.parse(first!).ts).toBe(t0);
      expect(bytes).toBeGreaterThan(HEAP_MB * 1024 * 1024);
      expect(small.proc.exitCode).toBeNull(); // alive: it never held the range
    } finally {
      await small.stop();
    }

    const csv = await fetch(
      `${base()}/api/export?kind=strategy&id=big&from=${t0}&to=${t0 + 3 * 60000}`,
    );
    const text = await csv.text();
    const rows = text.trim().split('\r\n');
    expect(rows[0]!.startsWith('ts,strategy,sampleId,count,cumulativeReturn')).toBe(true);
    expect(rows).toHaveLength(5); // header + 4 minutes (inclusive)
  }, 180_000);

  it('answers a bad query with the parameter named', async () => {
    const res = await fetch(`${base()}/api/export?kind=strategy`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/"path":"id"/);
  });
});

describe('report', () => {
  it('equals npm run metrics over the same returns, and renders in Chromium', async () => {
    const strategy = 'rep';
    const start = Date.parse('2026-01-01T00:00:00Z');
    // 260 trading days of a deterministic return series with a benchmark.
    const samples = Array.from({ length: 260 }, (_, i) => ({
      strategy,
      ts: start + i * 86_400_000,
      return: 0.0006 + 0.012 * Math.sin(i / 7) * Math.cos(i / 29),
      benchmarkReturn: 0.0004 + 0.009 * Math.sin(i / 11),
      receivedAt: start + i * 86_400_000,
    }));
    const written = await writeSamples(client, keys, samples);
    // Incidents on the strategy: acknowledged after 90 s and 10 min, one never.
    const incident = (
      rule: string,
      level: 'critical' | 'warning',
      day: number,
      ackAfterMs?: number,
    ): AlertEvent[] => {
      const startsAt = start + day * 86_400_000;
      const base = {
        incidentId: `${rule}__strategy-rep__${startsAt}-0`,
        rule,
        level,
        subject: 'strategy/rep',
        value: -0.2,
        threshold: -0.15,
        metric: rule === 'var_exceeded' ? 'valueAtRisk' : 'currentDrawdown',
        message: `${rule} on strategy/rep`,
        recommendation: `${rule}: cut exposure`,
        startsAt,
      };
      const fired = { ...base, state: 'firing' as const, endsAt: null, ts: startsAt };
      const ack =
        ackAfterMs === undefined
          ? undefined
          : { by: 'desk', at: startsAt + ackAfterMs, tokenName: 'desk' };
      return [
        AlertEvent.parse(fired),
        AlertEvent.parse({
          ...base,
          state: 'resolved',
          endsAt: startsAt + 3_600_000,
          ts: startsAt + 3_600_000,
          ...(ack ? { acknowledged: ack, acknowledgements: [ack] } : {}),
        }),
      ];
    };
    const events = [
      ...incident('var_exceeded', 'critical', 30, 90_000),
      ...incident('drawdown_exceeded', 'warning', 60, 600_000),
      ...incident('drawdown_exceeded', 'warning', 90),
    ];
    const alertTx = client.multi();
    for (const e of events) {
      alertTx.xadd(
        keys.partition(partitionOf(strategy, PARTITIONS)).alerts,
        '*',
        ...encodeEntry(e),
      );
    }
    await alertTx.exec();
    await eventually(async () => {
      const [r] = await query<{ n: number }>(
        sql,
        "select count(*)::int as n from alert_events where subject = 'strategy/rep'",
      );
      return r!['n'] === events.length ? true : undefined;
    }, 30_000);
    await eventually(async () => {
      const [r] = await query<{ n: number }>(
        sql,
        'select count(*)::int as n from strategy_samples where strategy = $1',
        [strategy],
      );
      return r!['n'] === written.length ? true : undefined;
    }, 30_000);
    const from = new Date(start).toISOString();
    const to = new Date(start + 400 * 86_400_000).toISOString();
    const res = await fetch(`${base()}/api/report?strategy=${strategy}&from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const embedded = /<script type="application\/json" id="metrics">([^<]*)<\/script>/.exec(
      html,
    )?.[1];
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'services/scorer/src/cli/metrics.ts', '-'],
      {
        cwd: ROOT,
        input: JSON.stringify({
          returns: samples.map((s) => s.return),
          benchmark: samples.map((s) => s.benchmarkReturn),
        }),
        encoding: 'utf8',
      },
    );
    expect(cli.status).toBe(0);
    expect(JSON.parse(embedded!)).toEqual(JSON.parse(cli.stdout));
    expect(html).toMatch(/EXCELLENT|GOOD|NEEDS IMPROVEMENT/);

    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.setContent(html);
      expect(await page.locator('svg').count()).toBe(4);
      expect(await page.locator('table.monthly tbody tr').count()).toBe(1);
      const alertRows = await page.locator('table.alerts tbody tr').allInnerTexts();
      expect(alertRows.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual([
        'var_exceeded critical 1 1 1.5 min 1.5 min',
        'drawdown_exceeded warning 2 1 10 min 10 min',
      ]);
      expect(await page.locator('ul.recs li').count()).toBe(2);
      await page.screenshot({ path: join(ARTIFACTS, 'history-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }

    const none = await fetch(`${base()}/api/report?strategy=nobody&from=${from}&to=${to}`);
    expect(none.status).toBe(404);

    // npm run report writes the same document (but for its generation time).
    const out = join(ARTIFACTS, 'history-report-cli.html');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'services/historian/src/cli/report.ts',
        '--strategy',
        strategy,
        '--from',
        from,
        '--to',
        to,
        '--out',
        out,
      ],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: pg.url }, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const strip = (h: string): string => h.replace(/generated [^<·]+/, '');
    expect(strip(readFileSync(out, 'utf8'))).toBe(strip(html));
    const bad = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'services/historian/src/cli/report.ts',
        '--strategy',
        strategy,
        '--from',
        'yesterday',
      ],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: pg.url }, encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--from: must be epoch ms or an ISO-8601 date-time/);
    expect(bad.stderr).toMatch(/--to: /);
  });
});
