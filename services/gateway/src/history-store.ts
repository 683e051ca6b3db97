import {
  AlertEvent,
  AuditEvent,
  HISTORY_TABLES as T,
  HOUR_MS,
  MINUTE_MS,
  type HistoryPoint,
  type Resolution,
  type Topic,
} from '@quantmon/shared';
import type { Sql } from 'postgres';
import { BucketFold } from './history-buckets.js';

/**
 * The gateway's reads of the history database (written by the historian):
 * raw points, rollups folded to a step, the alert and audit trail. Every
 * query is bounded (a LIMIT, a stride, or a cursor folded into buckets).
 */

export { connectHistory } from '../../historian/src/database.js';

interface TopicTable {
  table: string;
  /** Column and value that select the topic's subject, if any. */
  where?: { column: string; value: string };
}

function tableOf(topic: Topic, resolution: Resolution): TopicTable {
  const strategy = topic.startsWith('strategy:') && topic !== 'strategy:*';
  const id = strategy ? topic.slice('strategy:'.length) : undefined;
  if (topic === 'alerts') return { table: T.alertEvents };
  if (resolution === 'raw') {
    if (topic === 'system') return { table: T.systemSamples };
    return {
      table: T.scoreUpdates,
      ...(id !== undefined ? { where: { column: 'strategy', value: id } } : {}),
    };
  }
  const table =
    topic === 'system'
      ? resolution === '1m'
        ? T.systemRollup1m
        : T.systemRollup1h
      : resolution === '1m'
        ? T.scoreRollup1m
        : T.scoreRollup1h;
  return { table, ...(id !== undefined ? { where: { column: 'subject', value: id } } : {}) };
}

const subjectFilter = (sql: Sql, t: TopicTable) =>
  t.where ? sql`and ${sql(t.where.column)} = ${t.where.value}` : sql``;

/** The newest write time the database holds for a topic in [from, to], or undefined. */
export async function newestAt(
  sql: Sql,
  topic: Topic,
  from: number,
  to: number,
): Promise<number | undefined> {
  const t = tableOf(topic, 'raw');
  const [row] = await sql<{ at: number | null }[]>`
    select max(at) as at from ${sql(t.table)}
    where at between ${from} and ${to} ${subjectFilter(sql, t)}`;
  return row?.at ?? undefined;
}

/**
 * Raw points of a topic written in [from, to], oldest first; more than
 * `limit` are thinned in the database by an even stride (the newest kept).
 */
export async function rawPoints(
  sql: Sql,
  topic: Topic,
  from: number,
  to: number,
  limit: number,
): Promise<{ points: HistoryPoint[]; thinned: boolean }> {
  const t = tableOf(topic, 'raw');
  const filter = subjectFilter(sql, t);
  const [c] = await sql<{ n: number }[]>`
    select count(*)::int as n from ${sql(t.table)} where at between ${from} and ${to} ${filter}`;
  const n = c?.n ?? 0;
  const stride = Math.max(1, Math.ceil(n / limit));
  const rows = await sql<{ part: number; entry_id: string; data: HistoryPoint['data'] }[]>`
    select part, entry_id, data from (
      select part, entry_id, data,
             row_number() over (order by at, part, split_part(entry_id, '-', 2)::bigint) as rn
      from ${sql(t.table)} where at between ${from} and ${to} ${filter}
    ) numbered
    where (rn - 1) % ${stride} = 0 or rn = ${n}
    order by rn`;
  return {
    points: rows.map((r) => ({ pos: r.entry_id, part: r.part, data: r.data })),
    thinned: stride > 1,
  };
}

export const RESOLUTION_MS: Record<Resolution, number> = { raw: 1, '1m': MINUTE_MS, '1h': HOUR_MS };

/** Fold a topic's stored history in [from, to] into `fold`'s step buckets, from the resolution's table. */
export async function foldStored(
  sql: Sql,
  topic: Topic,
  resolution: Resolution,
  from: number,
  to: number,
  fold: BucketFold,
): Promise<void> {
  const t = tableOf(topic, resolution);
  const filter = subjectFilter(sql, t);
  if (resolution === 'raw') {
    const q = sql<{ part: number; entry_id: string; data: HistoryPoint['data'] }[]>`
      select part, entry_id, data from ${sql(t.table)}
      where at between ${from} and ${to} ${filter}`;
    for await (const rows of q.cursor(1000)) {
      for (const r of rows) fold.addEntry(r.part, r.entry_id, r.data as never);
    }
    return;
  }
  const width = RESOLUTION_MS[resolution];
  const q = sql<
    {
      last_at: number;
      last_part: number;
      last_seq: number;
      last: never;
      min: Record<string, number>;
      max: Record<string, number>;
    }[]
  >`
    select last_at, last_part, last_seq, last, min, max from ${sql(t.table)}
    where bucket between ${Math.floor(from / width) * width} and ${to} ${filter}`;
  for await (const rows of q.cursor(1000)) for (const r of rows) fold.addRollup(r);
}

/** Alert events written in [from, to], newest first, at most `limit`. */
export async function storedAlerts(
  sql: Sql,
  q: {
    from: number;
    to: number;
    state?: string | undefined;
    level?: string | undefined;
    limit: number;
  },
): Promise<{ part: number; entryId: string; event: AlertEvent }[]> {
  const rows = await sql<{ part: number; entry_id: string; data: unknown }[]>`
    select part, entry_id, data from ${sql(T.alertEvents)}
    where at between ${q.from} and ${q.to}
      ${q.state ? sql`and state = ${q.state}` : sql``}
      ${q.level ? sql`and level = ${q.level}` : sql``}
    order by at desc, part desc, split_part(entry_id, '-', 2)::bigint desc
    limit ${q.limit}`;
  return rows.flatMap((r) => {
    const e = AlertEvent.safeParse(r.data);
    return e.success ? [{ part: r.part, entryId: r.entry_id, event: e.data }] : [];
  });
}

/** Audit events that happened in [from, to], newest first, at most `limit`. */
export async function storedAudit(
  sql: Sql,
  q: { from: number; to: number; limit: number },
): Promise<AuditEvent[]> {
  const rows = await sql<{ data: unknown }[]>`
    select data from ${sql(T.auditEvents)}
    where event_at between ${q.from} and ${q.to}
    order by event_at desc, entry_id desc
    limit ${q.limit}`;
  return rows.flatMap((r) => {
    const e = AuditEvent.safeParse(r.data);
    return e.success ? [e.data] : [];
  });
}
