import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditEvent, HISTORY_TABLES as T, StrategySample } from '@quantmon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHistory, type HistoryDb } from '../../services/historian/src/database.js';
import { HistoryWriter } from '../../services/historian/src/history-writer.js';
import { migrate, MigrationError, readMigrations } from '../../services/historian/src/migrate.js';
import { emptyBatch, type EntryBatch } from '../../services/historian/src/rows.js';
import { sampleRow } from '../../services/historian/src/sample-row.js';
import { dropExpired, listPartitions } from '../../services/historian/src/time-partitions.js';
import { rows as query, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { alertEvent } from '../helpers/gateway-fixtures.js';
import { scoreUpdate, systemSample } from '../helpers/score-fixtures.js';

/** The historian's PostgreSQL side against a real server: migrations, idempotent batches, rollups, retention. */

let pg: TestPostgres;
let sql: HistoryDb;
const retention = { rawDays: 14, samplesDays: 0, rollup1mDays: 90, rollup1hDays: 0 };
const T0 = Date.parse('2026-11-30T10:00:00Z');

beforeAll(async () => {
  pg = await startPostgres();
  sql = connectHistory(pg.url);
  await migrate(sql);
});
afterAll(async () => {
  await sql?.end();
  await pg?.dispose();
});

function batch(n: number, offsetMs = 0): EntryBatch {
  const b = emptyBatch();
  for (let i = 0; i < n; i++) {
    const at = T0 + offsetMs + i * 1000;
    const u = scoreUpdate('alpha', i, { sharpeRatio: i / 10, valueAtRisk: -i / 100 });
    b.scores.push({ part: i % 3, id: `${at}-${i}`, value: { ...u, ts: at } });
    b.system.push({
      part: 0,
      id: `${at}-${i}`,
      value: { ...systemSample('h1', { cpu: i % 100 }), ts: at },
    });
    b.strategySamples.push({
      part: 1,
      id: `${at}-${i}`,
      value: StrategySample.parse({ strategy: 'alpha', ts: at, return: 0.001 * i, receivedAt: at }),
    });
  }
  return b;
}

const count = async (table: string): Promise<number> =>
  Number((await query(sql, `select count(*)::int as n from ${table}`))[0]!['n']);

describe('history writer', () => {
  it('writes a redelivered batch once: one row per stream entry', async () => {
    const writer = new HistoryWriter(sql, retention);
    const b = batch(120);
    const first = await writer.write(b);
    expect(first[T.scoreUpdates]).toBe(120);
    const again = await writer.write(b); // the same entries, as after a crash before XACK
    expect(again[T.scoreUpdates]).toBeUndefined();
    expect(await count(T.scoreUpdates)).toBe(120);
    expect(await count(T.systemSamples)).toBe(120);
    expect(await count(T.strategySamples)).toBe(120);
  });

  it('writes a batch that partly overlaps committed rows: only the new entries, every kind', async () => {
    // As after a crash between commit and XACK: the next round holds the
    // same entries plus new ones. COPY fails on the first duplicate and the
    // whole batch is written again skipping what is there; alerts, audit and
    // rollups (one statement) are idempotent on their own.
    const writer = new HistoryWriter(sql, retention);
    const at0 = Date.parse('2026-11-30T12:00:00Z');
    const mixed = (from: number, to: number): EntryBatch => {
      const b = emptyBatch();
      for (let i = from; i < to; i++) {
        const at = at0 + i * 1000;
        const id = `${at}-${i}`;
        const json = JSON.stringify({
          strategy: 'overlap',
          ts: at,
          return: i / 1000,
          receivedAt: at,
        });
        b.sampleRows.push({ at, line: sampleRow(json, 4, id)! });
        const u = scoreUpdate('overlap', i, { sharpeRatio: i / 10 });
        b.scores.push({ part: 4, id, value: { ...u, ts: at } });
        b.alerts.push({ part: 4, id, value: alertEvent(i, { subject: 'strategy/overlap' }, at) });
        b.audit.push({
          part: -1,
          id,
          value: AuditEvent.parse({
            kind: 'acknowledged',
            at,
            by: 'desk',
            incidentId: `inc-${i}`,
            ack: { by: 'desk', at },
          }),
        });
      }
      return b;
    };
    const first = await writer.write(mixed(0, 30));
    expect(first).toMatchObject({
      [T.strategySamples]: 30,
      [T.alertEvents]: 30,
      [T.auditEvents]: 30,
    });
    const second = await writer.write(mixed(20, 50)); // 10 seen, 20 new
    expect(second).toMatchObject({
      [T.strategySamples]: 20,
      [T.scoreUpdates]: 20,
      [T.alertEvents]: 20,
      [T.auditEvents]: 20,
    });
    const n = async (table: string, where: string): Promise<number> =>
      Number((await query(sql, `select count(*)::int as n from ${table} where ${where}`))[0]!['n']);
    expect(await n(T.strategySamples, "strategy = 'overlap'")).toBe(50);
    expect(await n(T.scoreUpdates, "strategy = 'overlap'")).toBe(50);
    expect(await n(T.alertEvents, "subject = 'strategy/overlap'")).toBe(50);
    expect(await n(T.auditEvents, "actor = 'desk'")).toBe(50);
    const [roll] = await query<{ min: Record<string, number>; max: Record<string, number> }>(
      sql,
      "select min, max from score_rollup_1h where subject = 'overlap'",
    );
    expect(roll!.min['sharpeRatio']).toBe(0);
    expect(roll!.max['sharpeRatio']).toBeCloseTo(4.9);
  });

  it('copies any text exactly: tabs, newlines, backslashes and quotes survive COPY', async () => {
    const writer = new HistoryWriter(sql, retention);
    const b = emptyBatch();
    const odd = 'a\tb\nc\\d"e\r\\N';
    const value = StrategySample.parse({
      strategy: 'odd',
      ts: T0,
      return: 1e-9,
      id: odd,
      weights: { [odd]: 0.5 },
      receivedAt: T0,
    });
    b.strategySamples.push({ part: 2, id: `${T0}-999`, value });
    await writer.write(b);
    const [row] = await query<{ sample_id: string; data: unknown; benchmark_return: null }>(
      sql,
      "select sample_id, data, benchmark_return from strategy_samples where strategy = 'odd'",
    );
    expect(row!.sample_id).toBe(odd);
    expect(row!.benchmark_return).toBeNull();
    expect(row!.data).toEqual(value);
  });

  it('rolls up per minute and hour: last entry, min and max, unchanged by a replay', async () => {
    const rows = await query<{
      bucket: number;
      last: { id: string };
      min: Record<string, number>;
      max: Record<string, number>;
    }>(
      sql,
      `
      select bucket, last, min, max from score_rollup_1m where subject = 'alpha' order by bucket`,
    );
    // 120 entries one second apart from 10:00:00: minutes 10:00 and 10:01.
    expect(rows.map((r) => r.bucket)).toEqual([T0, T0 + 60_000]);
    expect(rows[0]!.last.id).toBe('alpha-59');
    expect(rows[0]!.min['sharpeRatio']).toBeCloseTo(0);
    expect(rows[0]!.max['sharpeRatio']).toBeCloseTo(5.9);
    expect(rows[1]!.min['valueAtRisk']).toBeCloseTo(-1.19);
    const hour = await query<{ last: { id: string }; max: Record<string, number> }>(
      sql,
      `
      select last, max from score_rollup_1h where subject = 'alpha'`,
    );
    expect(hour).toHaveLength(1);
    expect(hour[0]!.last.id).toBe('alpha-119');
    expect(hour[0]!.max['sharpeRatio']).toBeCloseTo(11.9);
    const sys = await query<{ max: Record<string, number> }>(
      sql,
      `
      select max from system_rollup_1h where subject = 'h1'`,
    );
    expect(sys[0]!.max['cpu']).toBe(99);
  });

  it('merges a later batch into the same bucket (extremes widen, last moves on)', async () => {
    const writer = new HistoryWriter(sql, retention);
    await writer.write(batch(120, 30_000)); // overlaps minute 10:01 and adds 10:02
    const rows = await query<{ bucket: number; last: { id: string } }>(
      sql,
      `
      select bucket, last from score_rollup_1m where subject = 'alpha' order by bucket`,
    );
    expect(rows.map((r) => r.bucket)).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    expect(rows[2]!.last.id).toBe('alpha-119');
  });

  it('drops whole partitions past their retention, never rows of younger ones', async () => {
    const before = await listPartitions(sql, T.scoreUpdates);
    expect(before.length).toBeGreaterThan(0);
    const spec = { table: T.scoreUpdates, width: 86_400_000, retentionDays: 14 };
    expect(await dropExpired(sql, spec, T0 + 86_400_000)).toEqual([]);
    const dropped = await dropExpired(sql, spec, T0 + 16 * 86_400_000);
    expect(dropped).toEqual(before.map((p) => p.name));
    expect(await count(T.scoreUpdates)).toBe(0);
    expect(await count(T.strategySamples)).toBeGreaterThan(0); // kept forever by default
  });
});

describe('migrations', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'qm-migrations-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('apply once, and a failing one leaves no partial schema and names the file', async () => {
    expect(await migrate(sql)).toEqual([]); // already current
    const dir = tempDir();
    const current = readMigrations();
    for (const m of current) writeFileSync(join(dir, m.name), m.sql);
    const next = (k: number): string => String(current.length + k).padStart(3, '0');
    writeFileSync(join(dir, `${next(1)}_good_part.sql`), 'create table half_done (x int);');
    writeFileSync(
      join(dir, `${next(2)}_broken.sql`),
      'create table oops (x int);\nselect nonsense from nowhere;',
    );
    const err = await migrate(sql, readMigrations(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(
      new RegExp(`${next(2)}_broken\\.sql failed, nothing was applied`),
    );
    const tables = await query(
      sql,
      `select tablename from pg_tables where tablename in ('half_done', 'oops')`,
    );
    expect(tables).toHaveLength(0);
    const versions = await query(sql, `select version from history_migrations order by version`);
    expect(versions.map((v) => v['version'])).toEqual(current.map((m) => m.version));
  });

  it('refuses an applied migration whose file changed', async () => {
    const dir = tempDir();
    const [first] = readMigrations();
    writeFileSync(join(dir, first!.name), `${first!.sql}\n-- edited\n`);
    await expect(migrate(sql, readMigrations(dir))).rejects.toThrow(
      /001_history_tables\.sql was applied with other contents/,
    );
  });
});
