import { HISTORY_TABLES as T } from '@quantmon/shared';
import {
  copyLine,
  copyPayload,
  copyRows,
  copySkippingExisting,
  UNIQUE_VIOLATION,
} from './copy-rows.js';
import { transaction, type HistoryClient, type HistoryDb } from './database.js';
import {
  batchTimes,
  entryAt,
  itemJson,
  rollups,
  type BatchRollups,
  type EntryBatch,
  type RollupRow,
  type StreamItem,
} from './rows.js';
import { SAMPLE_COLUMNS, sampleLine } from './sample-row.js';
import {
  ensurePartitions,
  forgetPartitions,
  partitionedTables,
  type PartitionedTable,
} from './time-partitions.js';
import type { HistoryRetention } from '@quantmon/shared';

/**
 * Writes one batch of stream entries to PostgreSQL in one transaction:
 * the raw rows by COPY (copy-rows.ts; a batch that meets rows already
 * written is written again, skipping them), the rest by multi-row INSERTs
 * over unnest()ed arrays (one parameter per column, any number of rows) in
 * one statement, ON CONFLICT DO NOTHING on (partition, entry id) so a
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
    // Formatted once: a batch that meets rows already written is written again from the same bytes.
    const copies: Copy[] = [
      { table: T.strategySamples, columns: SAMPLE_COLUMNS, payload: sampleCopy(b) },
      { table: T.scoreUpdates, columns: subjectColumns('strategy'), payload: scoreCopy(b) },
      { table: T.systemSamples, columns: subjectColumns('host'), payload: systemCopy(b) },
    ];
    const rest = restStatement(b, r);
    const apply = (copyFn: typeof copyRows) => (tx: HistoryClient) =>
      applyBatch(tx, copies, rest, copyFn);
    try {
      return await transaction(this.db, apply(copyRows));
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    }
    // Some entries were written before (a redelivery): again, skipping those.
    return transaction(this.db, apply(copySkippingExisting));
  }
}

interface Copy {
  table: string;
  columns: readonly string[];
  payload: Buffer;
}

/**
 * One transaction: a COPY per raw table, then alerts, audit and the four
 * rollup merges as one statement. Round trips, not rows, were what a round
 * waited on when the machine was busy (each a wake-up of PostgreSQL and of
 * this process): BEGIN, the COPYs, one statement, COMMIT.
 */
async function applyBatch(
  tx: HistoryClient,
  copies: readonly Copy[],
  rest: Statement | undefined,
  copyFn: typeof copyRows,
): Promise<RowCounts> {
  const counts: RowCounts = {};
  const add = (table: string, n: number): void => {
    if (n > 0) counts[table] = (counts[table] ?? 0) + n;
  };
  for (const c of copies) add(c.table, await copyFn(tx, c.table, c.columns, c.payload));
  if (rest) {
    const res = await tx.query<Record<string, number>>(rest.text, rest.params);
    for (const [table, n] of Object.entries(res.rows[0] ?? {}))
      if (table !== '_') add(table, Number(n));
  }
  return counts;
}

type Param = (string | number | null)[];

const subjectColumns = (subject: string): string[] => [
  'at',
  'part',
  'entry_id',
  subject,
  'ts',
  'data',
];

/** strategy_samples' COPY: the fast path's lines as they are, the others formatted here. */
function sampleCopy(b: EntryBatch): Buffer {
  const lines = b.sampleRows.map((r) => r.line);
  for (const i of b.strategySamples) lines.push(sampleLine(i));
  return copyPayload(lines);
}

function subjectCopy<V extends { ts: number }>(
  items: readonly StreamItem<V>[],
  subject: (v: V) => string,
): Buffer {
  return copyPayload(
    items.map((i) =>
      copyLine([entryAt(i.id), i.part, i.id, subject(i.value), i.value.ts, itemJson(i)]),
    ),
  );
}

const scoreCopy = (b: EntryBatch): Buffer => subjectCopy(b.scores, (u) => u.strategy);
const systemCopy = (b: EntryBatch): Buffer => subjectCopy(b.system, (s) => s.host);

interface Statement {
  text: string;
  params: Param[];
}

/**
 * Alerts, audit and rollups as one statement of data-modifying CTEs (each
 * idempotent on its own: ON CONFLICT DO NOTHING, or the commutative rollup
 * merge), answering the rows each inserted, by table. Undefined when the
 * batch has none of them.
 */
function restStatement(b: EntryBatch, r: BatchRollups): Statement | undefined {
  const parts: { table: string; sql: (p: (v: Param) => string) => string; count: boolean }[] = [];
  const params: Param[] = [];
  const p = (v: Param): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (b.alerts.length > 0)
    parts.push({ table: T.alertEvents, sql: (q) => alertsSql(b, q), count: true });
  if (b.audit.length > 0)
    parts.push({ table: T.auditEvents, sql: (q) => auditSql(b, q), count: true });
  const rolls: [string, RollupRow[]][] = [
    [T.scoreRollup1m, r.score1m],
    [T.scoreRollup1h, r.score1h],
    [T.systemRollup1m, r.system1m],
    [T.systemRollup1h, r.system1h],
  ];
  for (const [table, rows] of rolls)
    if (rows.length > 0) parts.push({ table, sql: (q) => rollupSql(table, rows, q), count: false });
  if (parts.length === 0) return undefined;
  const ctes = parts.map((x, i) => `w${i} as (${x.sql(p)}${x.count ? ' returning 1' : ''})`);
  const answers = parts.flatMap((x, i) =>
    x.count ? [`(select count(*)::int from w${i}) as ${x.table}`] : [],
  );
  return { text: `with ${ctes.join(',\n')}\nselect ${answers.join(', ') || '1 as _'}`, params };
}

const alertsSql = (b: EntryBatch, p: (v: Param) => string): string => {
  const a = b.alerts;
  return `insert into ${T.alertEvents}
       (at, part, entry_id, incident_id, rule, level, subject, state, ts, data)
     select at, part, entry_id, incident_id, rule, level, subject, state, ts, data::jsonb
     from unnest(${p(a.map((i) => entryAt(i.id)))}::bigint[], ${p(a.map((i) => i.part))}::int[],
                 ${p(a.map((i) => i.id))}::text[], ${p(a.map((i) => i.value.incidentId))}::text[],
                 ${p(a.map((i) => i.value.rule))}::text[], ${p(a.map((i) => i.value.level))}::text[],
                 ${p(a.map((i) => i.value.subject))}::text[], ${p(a.map((i) => i.value.state))}::text[],
                 ${p(a.map((i) => i.value.ts))}::bigint[], ${p(a.map((i) => JSON.stringify(i.value)))}::text[])
       as t(at, part, entry_id, incident_id, rule, level, subject, state, ts, data)
     on conflict do nothing`;
};

const auditSql = (b: EntryBatch, p: (v: Param) => string): string => {
  const a = b.audit;
  return `insert into ${T.auditEvents} (entry_id, at, event_at, kind, actor, data)
     select entry_id, at, event_at, kind, actor, data::jsonb
     from unnest(${p(a.map((i) => i.id))}::text[], ${p(a.map((i) => entryAt(i.id)))}::bigint[],
                 ${p(a.map((i) => i.value.at))}::bigint[], ${p(a.map((i) => i.value.kind))}::text[],
                 ${p(a.map((i) => i.value.by))}::text[], ${p(a.map((i) => JSON.stringify(i.value)))}::text[])
       as t(entry_id, at, event_at, kind, actor, data)
     on conflict do nothing`;
};

/** Merge rows into a rollup: extremes by least/greatest, `last` by (at, part, seq). */
function rollupSql(table: string, rows: readonly RollupRow[], p: (v: Param) => string): string {
  const later = `(excluded.last_at, excluded.last_part, excluded.last_seq)
                      > (r.last_at, r.last_part, r.last_seq)`;
  return `insert into ${table} as r (bucket, subject, last_at, last_part, last_seq, last, min, max)
     select bucket, subject, last_at, last_part, last_seq, last::jsonb, mn::jsonb, mx::jsonb
     from unnest(${p(rows.map((x) => x.bucket))}::bigint[], ${p(rows.map((x) => x.subject))}::text[],
                 ${p(rows.map((x) => x.lastAt))}::bigint[], ${p(rows.map((x) => x.lastPart))}::int[],
                 ${p(rows.map((x) => x.lastSeq))}::bigint[], ${p(rows.map((x) => x.last))}::text[],
                 ${p(rows.map((x) => JSON.stringify(x.min)))}::text[],
                 ${p(rows.map((x) => JSON.stringify(x.max)))}::text[])
       as t(bucket, subject, last_at, last_part, last_seq, last, mn, mx)
     on conflict (subject, bucket) do update set
       min = qm_merge_least(r.min, excluded.min),
       max = qm_merge_greatest(r.max, excluded.max),
       last = case when ${later} then excluded.last else r.last end,
       last_seq = case when ${later} then excluded.last_seq else r.last_seq end,
       last_part = case when ${later} then excluded.last_part else r.last_part end,
       last_at = greatest(r.last_at, excluded.last_at)`;
}
