import {
  AlertEvent,
  AuditEvent,
  ScoreUpdate,
  SystemSample,
  HISTORY_TABLES as T,
  HOUR_MS,
  MINUTE_MS,
  type HistoryPoint,
  type Resolution,
  type Topic,
} from '@quantmon/shared';
import { cursor, type HistoryDb } from '../../historian/src/database.js';
import type { BucketFold } from './history-buckets.js';
import { tagOf } from './topics.js';

/**
 * The gateway's reads of the history database (written by the historian):
 * raw points, rollups folded to a step, the alert and audit trail. Every
 * query is bounded (a LIMIT, a stride, or a cursor folded into buckets).
 * Table and column names come from HISTORY_TABLES and this file, never
 * from a request; values are always parameters.
 */

export { connectHistory, type HistoryDb } from '../../historian/src/database.js';

interface TopicTable {
  table: string;
  /** Column that selects the topic's subject, and its value, if any. */
  column?: string;
  value?: string;
  /** A tag topic: the JSON column holding the update (`data`, or a rollup's `last`) and the tag. */
  tag?: { json: string; key: string; value: string };
}

function tableOf(topic: Topic, resolution: Resolution): TopicTable {
  const strategy = topic.startsWith('strategy:') && topic !== 'strategy:*';
  const id = strategy ? topic.slice('strategy:'.length) : undefined;
  const tag = tagOf(topic);
  if (topic === 'alerts') return { table: T.alertEvents };
  if (resolution === 'raw') {
    if (topic === 'system') return { table: T.systemSamples };
    return {
      table: T.scoreUpdates,
      ...(id !== undefined ? { column: 'strategy', value: id } : {}),
      ...(tag ? { tag: { json: 'data', ...tag } } : {}),
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
  // A bucket's tags are those of its last update (a strategy's tags rarely change).
  return {
    table,
    ...(id !== undefined ? { column: 'subject', value: id } : {}),
    ...(tag ? { tag: { json: 'last', ...tag } } : {}),
  };
}

/**
 * The schema of a topic's stored entries: rows are checked on the way out
 * as stream entries are (a row that fails is skipped, never served).
 */
function schemaOf(topic: Topic) {
  return topic === 'alerts' ? AlertEvent : topic === 'system' ? SystemSample : ScoreUpdate;
}

/** `and <column> = $n` when the topic names a subject; its parameter appended to `params`. */
function subjectFilter(t: TopicTable, params: unknown[]): string {
  if (t.tag) {
    // The stored update's own tags (score updates carry them): `tag:desk=rates` topics.
    params.push(t.tag.key, t.tag.value);
    return `and ${t.tag.json}->'tags'->>$${params.length - 1} = $${params.length}`;
  }
  if (!t.column) return '';
  params.push(t.value);
  return `and ${t.column} = $${params.length}`;
}

/**
 * Raw points of a topic written in [from, to], oldest first; more than
 * `limit` are thinned in the database by an even stride (the newest kept).
 */
export async function rawPoints(
  db: HistoryDb,
  topic: Topic,
  from: number,
  to: number,
  limit: number,
): Promise<{ points: HistoryPoint[]; thinned: boolean }> {
  const t = tableOf(topic, 'raw');
  const params: unknown[] = [from, to];
  const filter = subjectFilter(t, params);
  const count = await db.query<{ n: number }>(
    `select count(*)::int as n from ${t.table} where at between $1 and $2 ${filter}`,
    params,
  );
  const n = count.rows[0]?.n ?? 0;
  const stride = Math.max(1, Math.ceil(n / limit));
  const { rows } = await db.query<{ part: number; entry_id: string; data: HistoryPoint['data'] }>(
    `select part, entry_id, data from (
       select part, entry_id, data,
              row_number() over (order by at, part, split_part(entry_id, '-', 2)::bigint) as rn
       from ${t.table} where at between $1 and $2 ${filter}
     ) numbered
     where (rn - 1) % ${stride} = 0 or rn = ${n}
     order by rn`,
    params,
  );
  const schema = schemaOf(topic);
  return {
    points: rows.flatMap((r) => {
      const d = schema.safeParse(r.data);
      return d.success ? [{ pos: r.entry_id, part: r.part, data: d.data }] : [];
    }),
    thinned: stride > 1,
  };
}

export const RESOLUTION_MS: Record<Resolution, number> = { raw: 1, '1m': MINUTE_MS, '1h': HOUR_MS };

/** Fold a topic's stored history in [from, to] into `fold`'s step buckets, from the resolution's table. */
export async function foldStored(
  db: HistoryDb,
  topic: Topic,
  resolution: Resolution,
  from: number,
  to: number,
  fold: BucketFold,
): Promise<void> {
  const t = tableOf(topic, resolution);
  if (resolution === 'raw') {
    const params: unknown[] = [from, to];
    const filter = subjectFilter(t, params);
    const rows = cursor<{ part: number; entry_id: string; data: unknown }>(
      db,
      `select part, entry_id, data from ${t.table} where at between $1 and $2 ${filter}`,
      params,
      1000,
    );
    const schema = topic === 'system' ? SystemSample : ScoreUpdate;
    for await (const page of rows) {
      for (const r of page) {
        const d = schema.safeParse(r.data);
        if (d.success) fold.addEntry(r.part, r.entry_id, d.data);
      }
    }
    return;
  }
  const width = RESOLUTION_MS[resolution];
  const params: unknown[] = [Math.floor(from / width) * width, to];
  const filter = subjectFilter(t, params);
  const rows = cursor<{
    last_at: number;
    last_part: number;
    last_seq: number;
    last: unknown;
    min: Record<string, number>;
    max: Record<string, number>;
  }>(
    db,
    `select last_at, last_part, last_seq, last, min, max from ${t.table}
     where bucket between $1 and $2 ${filter}`,
    params,
    1000,
  );
  const schema = topic === 'system' ? SystemSample : ScoreUpdate;
  for await (const page of rows) {
    for (const r of page) {
      const last = schema.safeParse(r.last);
      if (last.success) fold.addRollup({ ...r, last: last.data });
    }
  }
}

/** Alert events written in [from, to], newest first, at most `limit`. */
export async function storedAlerts(
  db: HistoryDb,
  q: {
    from: number;
    to: number;
    state?: string | undefined;
    level?: string | undefined;
    limit: number;
  },
): Promise<{ part: number; entryId: string; event: AlertEvent }[]> {
  const params: unknown[] = [q.from, q.to, q.limit];
  let filters = '';
  if (q.state) {
    params.push(q.state);
    filters += ` and state = $${params.length}`;
  }
  if (q.level) {
    params.push(q.level);
    filters += ` and level = $${params.length}`;
  }
  const { rows } = await db.query<{ part: number; entry_id: string; data: unknown }>(
    `select part, entry_id, data from ${T.alertEvents}
     where at between $1 and $2 ${filters}
     order by at desc, part desc, split_part(entry_id, '-', 2)::bigint desc
     limit $3`,
    params,
  );
  return rows.flatMap((r) => {
    const e = AlertEvent.safeParse(r.data);
    return e.success ? [{ part: r.part, entryId: r.entry_id, event: e.data }] : [];
  });
}

/** Audit events that happened in [from, to], newest first, at most `limit`. */
export async function storedAudit(
  db: HistoryDb,
  q: { from: number; to: number; limit: number },
): Promise<AuditEvent[]> {
  const { rows } = await db.query<{ data: unknown }>(
    `select data from ${T.auditEvents}
     where event_at between $1 and $2
     order by event_at desc, entry_id desc
     limit $3`,
    [q.from, q.to, q.limit],
  );
  return rows.flatMap((r) => {
    const e = AuditEvent.safeParse(r.data);
    return e.success ? [e.data] : [];
  });
}
