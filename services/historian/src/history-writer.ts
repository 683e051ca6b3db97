import { HISTORY_TABLES as T } from '@quantmon/shared';
import { copyRows } from './copy-rows.js';
import { transaction, type HistoryClient, type HistoryDb } from './database.js';
import {
  batchTimes,
  entryAt,
  itemJson,
  rollups,
  type EntryBatch,
  type RollupRow,
  type StreamItem,
} from './rows.js';
import {
  ensurePartitions,
  forgetPartitions,
  partitionedTables,
  type PartitionedTable,
} from './time-partitions.js';
import type { HistoryRetention } from '@quantmon/shared';

/**
 * Writes one batch of stream entries to PostgreSQL in one transaction:
 * the raw rows by COPY (copy-rows.ts), the rest by multi-row
 * INSERTs over unnest()ed arrays (one parameter per column, any number of
 * rows), ON CONFLICT DO NOTHING on (partition, entry id) so a
 * redelivered entry never makes a second row, and rollups merged with
 * least/greatest/latest (idempotent too). The caller acks the entries only
 * after this resolves: committed rows first, then XACK.
 */

export type RowCounts = Record<string, number>;

export class HistoryWriter {
  private readonly specs: Map<string, PartitionedTable>;

  constructor(
    private readonly db: HistoryDb,
    retention: HistoryRetention,
  ) {
    this.specs = new Map(partitionedTables(retention).map((s) => [s.table, s]));
  }

  async write(b: EntryBatch): Promise<RowCounts> {
    try {
      return await this.writeOnce(b);
    } catch (err) {
      // A partition dropped by another replica's retention, or a schema
      // reset, makes the cache stale: ask the catalog again next time.
      forgetPartitions();
      throw err;
    }
  }

  private async writeOnce(b: EntryBatch): Promise<RowCounts> {
    const times = batchTimes(b);
    const r = rollups(b);
    const need = (table: string, ts: Iterable<number>): Promise<void> =>
      ensurePartitions(this.db, this.specs.get(table)!, ts);
    await need(T.strategySamples, times.samples);
    await need(T.scoreUpdates, times.raw);
    await need(T.systemSamples, times.raw);
    await need(
      T.scoreRollup1m,
      r.score1m.map((x) => x.bucket),
    );
    await need(
      T.systemRollup1m,
      r.system1m.map((x) => x.bucket),
    );
    await need(
      T.scoreRollup1h,
      r.score1h.map((x) => x.bucket),
    );
    await need(
      T.systemRollup1h,
      r.system1h.map((x) => x.bucket),
    );

    return transaction(this.db, async (tx) => {
      const counts: RowCounts = {};
      const add = (table: string, n: number): void => {
        if (n > 0) counts[table] = (counts[table] ?? 0) + n;
      };
      add(T.strategySamples, await insertStrategySamples(tx, b));
      add(T.scoreUpdates, await insertScores(tx, b));
      add(T.systemSamples, await insertSystem(tx, b));
      add(T.alertEvents, await insertAlerts(tx, b));
      add(T.auditEvents, await insertAudit(tx, b));
      await upsertRollup(tx, T.scoreRollup1m, r.score1m);
      await upsertRollup(tx, T.scoreRollup1h, r.score1h);
      await upsertRollup(tx, T.systemRollup1m, r.system1m);
      await upsertRollup(tx, T.systemRollup1h, r.system1h);
      return counts;
    });
  }
}

type Param = (string | number | null)[];

async function run(tx: HistoryClient, text: string, params: Param[]): Promise<number> {
  if ((params[0]?.length ?? 0) === 0) return 0;
  // node-postgres sends JS arrays as PostgreSQL arrays; the casts in `text` name their types.
  const res = await tx.query(text, params);
  return res.rowCount ?? 0;
}

function insertStrategySamples(tx: HistoryClient, b: EntryBatch): Promise<number> {
  return copyRows(
    tx,
    T.strategySamples,
    [
      'at',
      'part',
      'entry_id',
      'strategy',
      'ts',
      'ret',
      'benchmark_return',
      'equity',
      'sample_id',
      'data',
    ],
    b.strategySamples.map((i) => [
      entryAt(i.id),
      i.part,
      i.id,
      i.value.strategy,
      i.value.ts,
      i.value.return,
      i.value.benchmarkReturn ?? null,
      i.value.equity ?? null,
      i.value.id ?? null,
      itemJson(i),
    ]),
  );
}

function insertSubjectRows<V extends { ts: number }>(
  tx: HistoryClient,
  table: string,
  subjectColumn: string,
  items: readonly StreamItem<V>[],
  subject: (v: V) => string,
): Promise<number> {
  return copyRows(
    tx,
    table,
    ['at', 'part', 'entry_id', subjectColumn, 'ts', 'data'],
    items.map((i) => [entryAt(i.id), i.part, i.id, subject(i.value), i.value.ts, itemJson(i)]),
  );
}

const insertScores = (tx: HistoryClient, b: EntryBatch): Promise<number> =>
  insertSubjectRows(tx, T.scoreUpdates, 'strategy', b.scores, (u) => u.strategy);

const insertSystem = (tx: HistoryClient, b: EntryBatch): Promise<number> =>
  insertSubjectRows(tx, T.systemSamples, 'host', b.system, (s) => s.host);

function insertAlerts(tx: HistoryClient, b: EntryBatch): Promise<number> {
  const a = b.alerts;
  return run(
    tx,
    `insert into ${T.alertEvents}
       (at, part, entry_id, incident_id, rule, level, subject, state, ts, data)
     select at, part, entry_id, incident_id, rule, level, subject, state, ts, data::jsonb
     from unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::bigint[], $10::text[])
       as t(at, part, entry_id, incident_id, rule, level, subject, state, ts, data)
     on conflict do nothing`,
    [
      a.map((i) => entryAt(i.id)),
      a.map((i) => i.part),
      a.map((i) => i.id),
      a.map((i) => i.value.incidentId),
      a.map((i) => i.value.rule),
      a.map((i) => i.value.level),
      a.map((i) => i.value.subject),
      a.map((i) => i.value.state),
      a.map((i) => i.value.ts),
      a.map((i) => JSON.stringify(i.value)),
    ],
  );
}

function insertAudit(tx: HistoryClient, b: EntryBatch): Promise<number> {
  const a = b.audit;
  return run(
    tx,
    `insert into ${T.auditEvents} (entry_id, at, event_at, kind, actor, data)
     select entry_id, at, event_at, kind, actor, data::jsonb
     from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
       as t(entry_id, at, event_at, kind, actor, data)
     on conflict do nothing`,
    [
      a.map((i) => i.id),
      a.map((i) => entryAt(i.id)),
      a.map((i) => i.value.at),
      a.map((i) => i.value.kind),
      a.map((i) => i.value.by),
      a.map((i) => JSON.stringify(i.value)),
    ],
  );
}

/** Merge rows into a rollup: extremes by least/greatest, `last` by (at, part, seq). */
async function upsertRollup(tx: HistoryClient, table: string, rows: RollupRow[]): Promise<void> {
  await run(
    tx,
    `insert into ${table} as r (bucket, subject, last_at, last_part, last_seq, last, min, max)
     select bucket, subject, last_at, last_part, last_seq, last::jsonb, mn::jsonb, mx::jsonb
     from unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::bigint[],
                 $6::text[], $7::text[], $8::text[])
       as t(bucket, subject, last_at, last_part, last_seq, last, mn, mx)
     on conflict (subject, bucket) do update set
       min = qm_merge_least(r.min, excluded.min),
       max = qm_merge_greatest(r.max, excluded.max),
       last = case when (excluded.last_at, excluded.last_part, excluded.last_seq)
                      > (r.last_at, r.last_part, r.last_seq) then excluded.last else r.last end,
       last_seq = case when (excluded.last_at, excluded.last_part, excluded.last_seq)
                      > (r.last_at, r.last_part, r.last_seq) then excluded.last_seq else r.last_seq end,
       last_part = case when (excluded.last_at, excluded.last_part, excluded.last_seq)
                      > (r.last_at, r.last_part, r.last_seq) then excluded.last_part else r.last_part end,
       last_at = greatest(r.last_at, excluded.last_at)`,
    [
      rows.map((x) => x.bucket),
      rows.map((x) => x.subject),
      rows.map((x) => x.lastAt),
      rows.map((x) => x.lastPart),
      rows.map((x) => x.lastSeq),
      rows.map((x) => x.last),
      rows.map((x) => JSON.stringify(x.min)),
      rows.map((x) => JSON.stringify(x.max)),
    ],
  );
}
