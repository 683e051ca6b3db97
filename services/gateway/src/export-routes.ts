import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import {
  ExportQuery,
  HISTORY_OFF,
  HISTORY_TABLES as T,
  sendJson,
  type ExportKind,
  type Route,
} from '@quantmon/shared';
import type { Sql } from 'postgres';
import { CSV_COLUMNS, csvLine, csvRow } from './export-format.js';

/**
 * `GET /api/export?kind=&id=&from=&to=&format=csv|jsonl`: rows of a range,
 * oldest first, streamed from a PostgreSQL cursor in pages of PAGE rows
 * with the socket's back-pressure respected, so memory stays bounded
 * whatever the range. 503 while history is off.
 */

const PAGE = 1000;
const DAY = 86_400_000;

function source(sql: Sql, q: ExportQuery, from: number, to: number) {
  const range = sql`ts between ${from} and ${to}`;
  switch (q.kind) {
    case 'strategy':
      return sql<{ data: string }[]>`select data::text as data from ${sql(T.scoreUpdates)}
        where strategy = ${q.id!} and ${range} order by ts, at, part, entry_id`;
    case 'returns':
      return sql<{ data: string }[]>`select data::text as data from ${sql(T.strategySamples)}
        where strategy = ${q.id!} and ${range} order by ts, at, part, entry_id`;
    case 'host':
      return sql<{ data: string }[]>`select data::text as data from ${sql(T.systemSamples)}
        where host = ${q.id!} and ${range} order by ts, at, part, entry_id`;
    case 'alerts':
      return sql<{ data: string }[]>`select data::text as data from ${sql(T.alertEvents)}
        where ${range} ${q.id ? sql`and subject = ${q.id}` : sql``}
        order by ts, at, part, entry_id`;
  }
}

const fileName = (
  kind: ExportKind,
  id: string | undefined,
  from: number,
  to: number,
  ext: string,
) =>
  `quantmon-${kind}${id ? `-${id.replaceAll('/', '_')}` : ''}-${new Date(from).toISOString().slice(0, 10)}-${new Date(to).toISOString().slice(0, 10)}.${ext}`;

export function exportRoutes(opts: { sql: Sql | undefined; now?: () => number }): Route {
  const now = opts.now ?? Date.now;
  return async (req, res, url) => {
    if (url.pathname !== '/api/export' || req.method !== 'GET') return false;
    if (!opts.sql) {
      sendJson(res, 503, { error: HISTORY_OFF });
      return true;
    }
    const params = Object.fromEntries(url.searchParams);
    delete params['token'];
    const q = ExportQuery.safeParse(params);
    if (!q.success) {
      sendJson(res, 400, {
        error: 'invalid query',
        issues: q.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
      return true;
    }
    const to = q.data.to ?? now();
    const from = q.data.from ?? to - DAY;
    if (from > to) {
      sendJson(res, 400, {
        error: 'invalid query',
        issues: [{ path: 'from', message: 'from is after to' }],
      });
      return true;
    }
    await streamExport(opts.sql, q.data, from, to, res);
    return true;
  };
}

async function streamExport(
  sql: Sql,
  q: ExportQuery,
  from: number,
  to: number,
  res: ServerResponse,
): Promise<void> {
  const csv = q.format === 'csv';
  res.writeHead(200, {
    'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="${fileName(q.kind, q.id, from, to, csv ? 'csv' : 'jsonl')}"`,
    'cache-control': 'no-store',
  });
  if (csv) res.write(csvLine(CSV_COLUMNS[q.kind]));
  let closed = false;
  res.once('close', () => (closed = true));
  for await (const rows of source(sql, q, from, to).cursor(PAGE)) {
    if (closed) break; // the client went away: stop reading (the cursor closes)
    let chunk = '';
    for (const r of rows) {
      chunk += csv ? csvLine(csvRow(q.kind, JSON.parse(r.data))) : `${r.data}\n`;
    }
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
