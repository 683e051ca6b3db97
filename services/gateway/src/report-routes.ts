import { HISTORY_OFF, ReportQuery, sendJson, type Route } from '@quantmon/shared';
import type { HistoryDb } from '../../historian/src/database.js';
import { buildReport } from '../../historian/src/report/index.js';

/**
 * `GET /api/report?strategy=&from=&to=`: the assessment report (the same
 * HTML `npm run report` writes). 404 without samples in the range, 503
 * while history is off.
 */
export function reportRoutes(opts: { sql: HistoryDb | undefined; now?: () => number }): Route {
  const now = opts.now ?? Date.now;
  return async (req, res, url) => {
    if (url.pathname !== '/api/report' || req.method !== 'GET') return false;
    if (!opts.sql) {
      sendJson(res, 503, { error: HISTORY_OFF });
      return true;
    }
    const params = Object.fromEntries(url.searchParams);
    delete params['token'];
    const q = ReportQuery.safeParse(params);
    if (!q.success) {
      sendJson(res, 400, {
        error: 'invalid query',
        issues: q.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
      return true;
    }
    const { strategy, from, to } = q.data;
    if (from > to) {
      sendJson(res, 400, {
        error: 'invalid query',
        issues: [{ path: 'from', message: 'from is after to' }],
      });
      return true;
    }
    const built = await buildReport(opts.sql, strategy, from, to, now());
    if (!built) {
      sendJson(res, 404, {
        error: `strategy ${strategy} has no samples between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
      });
      return true;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(built.html),
      'cache-control': 'no-store',
    });
    res.end(built.html);
    return true;
  };
}
