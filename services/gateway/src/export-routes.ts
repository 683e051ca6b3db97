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
import { cursor, type HistoryDb } from '../../historian/src/database.js';
import { CSV_COLUMNS, csvLine, csvRow } from './export-format.js';

/**
 * `GET /api/export?kind=&id=&from=&to=&format=csv|jsonl`: rows of a range,
 * oldest first, streamed from a PostgreSQL cursor in pages of PAGE rows
 * with the socket's back-pressure respected, so memory stays bounded
 * whatever the range. 503 while history is off.
 */

const PAGE = 1000;
const DAY = 86_400_000;

/** The query of an export: newest-last by the data's own time; names from HISTORY_TABLES, values as parameters. */
function source(q: ExportQuery, from: number, to: number): { text: string; params: unknown[] } {
  const order = 'order by ts, at, part, entry_id';
  const byId = (table: string, column: string) => ({
    text: `select data::text as data from ${table} where ${column} = $3 and ts between $1 and $2 ${order}`,
    params: [from, to, q.id],
  });
  switch (q.kind) {
    case 'strategy':
      return byId(T.scoreUpdates, 'strategy');
    case 'returns':
      return byId(T.strategySamples, 'strategy');
    case 'host':
      return byId(T.systemSamples, 'host');
    case 'alerts':
      return q.id
        ? byId(T.alertEvents, 'subject')
        : {
            text: `select data::text as data from ${T.alertEvents} where ts between $1 and $2 ${order}`,
            params: [from, to],
          };
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

export function exportRoutes(opts: { sql: HistoryDb | undefined; now?: () => number }): Route {
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
  db: HistoryDb,
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
  const { text, params } = source(q, from, to);
  const pages = cursor<{ data: string }>(db, text, params, PAGE);
  for await (const rows of pages) {
    if (closed) break; // the client went away: stop reading (the cursor closes)
    let chunk = '';
    for (const r of rows) {
      chunk += csv ? csvLine(csvRow(q.kind, JSON.parse(r.data))) : `${r.data}\n`;
    }
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
