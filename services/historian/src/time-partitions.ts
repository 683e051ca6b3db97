import { DAY_MS, HISTORY_TABLES, type HistoryRetention } from '@quantmon/shared';
import { transaction, type HistoryDb } from './database.js';

/**
 * Declarative range partitions of the time-series tables: created before
 * rows need them (and a few days ahead), dropped whole when they pass their
 * retention, never emptied row by row.
 */

export interface PartitionedTable {
  table: string;
  /** Range width, ms, aligned to the epoch. */
  width: number;
  /** 0 keeps forever. */
  retentionDays: number;
}

/** 1-hour rollups are small and kept long: 30-day partitions keep their count low. */
const MONTHISH = 30 * DAY_MS;

export function partitionedTables(r: HistoryRetention): PartitionedTable[] {
  const t = HISTORY_TABLES;
  return [
    { table: t.strategySamples, width: DAY_MS, retentionDays: r.samplesDays },
    { table: t.scoreUpdates, width: DAY_MS, retentionDays: r.rawDays },
    { table: t.systemSamples, width: DAY_MS, retentionDays: r.rawDays },
    { table: t.scoreRollup1m, width: DAY_MS, retentionDays: r.rollup1mDays },
    { table: t.systemRollup1m, width: DAY_MS, retentionDays: r.rollup1mDays },
    { table: t.scoreRollup1h, width: MONTHISH, retentionDays: r.rollup1hDays },
    { table: t.systemRollup1h, width: MONTHISH, retentionDays: r.rollup1hDays },
  ];
}

export const rangeStart = (ms: number, width: number): number => Math.floor(ms / width) * width;

/** `score_updates_p20261202` (the range start's UTC date). */
export function partitionName(table: string, start: number): string {
  return `${table}_p${new Date(start).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Partitions this process knows exist: creating one is a round trip only the first time. */
const known = new Set<string>();

/** Serialises DDL between historians (creating and dropping partitions). */
const DDL_LOCK = 0x71_6d_64_64; // "qmdd"

export async function ensurePartitions(
  db: HistoryDb,
  spec: PartitionedTable,
  times: Iterable<number>,
): Promise<void> {
  const starts = new Set<number>();
  for (const ms of times) starts.add(rangeStart(ms, spec.width));
  const missing = [...starts].filter((s) => !known.has(partitionName(spec.table, s)));
  if (missing.length === 0) return;
  await transaction(db, async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [DDL_LOCK]);
    for (const start of missing) {
      const name = partitionName(spec.table, start);
      await tx.query(
        `create table if not exists ${name} partition of ${spec.table} ` +
          `for values from (${start}) to (${start + spec.width})`,
      );
    }
  });
  for (const start of missing) known.add(partitionName(spec.table, start));
}

/** Forget what this process created (a test dropped the schema, or retention dropped one). */
export function forgetPartitions(): void {
  known.clear();
}

/** The partitions of a table with their range, read from the catalog. */
export async function listPartitions(
  db: HistoryDb,
  table: string,
): Promise<{ name: string; from: number; to: number }[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
     from pg_inherits i
     join pg_class c on c.oid = i.inhrelid
     join pg_class p on p.oid = i.inhparent
     where p.relname = $1 and p.relnamespace = current_schema()::regnamespace`,
    [table],
  );
  const out: { name: string; from: number; to: number }[] = [];
  for (const r of rows) {
    const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(r.bound);
    if (m) out.push({ name: r.name, from: Number(m[1]), to: Number(m[2]) });
  }
  return out.sort((a, b) => a.from - b.from);
}

/**
 * Retention: drop every partition whose whole range is older than the
 * table's retention. Returns the partitions dropped.
 */
export async function dropExpired(
  db: HistoryDb,
  spec: PartitionedTable,
  now: number,
): Promise<string[]> {
  if (spec.retentionDays === 0) return [];
  const cutoff = now - spec.retentionDays * DAY_MS;
  const expired = (await listPartitions(db, spec.table)).filter((p) => p.to <= cutoff);
  if (expired.length === 0) return [];
  await transaction(db, async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [DDL_LOCK]);
    for (const p of expired) await tx.query(`drop table if exists ${p.name}`);
  });
  for (const p of expired) known.delete(p.name);
  return expired.map((p) => p.name);
}

/** Partitions for today and the next `aheadDays`, so the usual write never waits on DDL. */
export async function createAhead(
  db: HistoryDb,
  specs: readonly PartitionedTable[],
  now: number,
  aheadDays = 2,
): Promise<void> {
  const times = Array.from({ length: aheadDays + 1 }, (_, i) => now + i * DAY_MS);
  for (const spec of specs) await ensurePartitions(db, spec, times);
}
