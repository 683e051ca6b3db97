import {
  loadHistoryDatabaseUrl,
  loadOrExit,
  type Keys,
  type Logger,
  type Route,
  type Shutdown,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { exportRoutes } from './export-routes.js';
import { historyRoutes } from './history-routes.js';
import { connectHistory } from './history-store.js';
import { reportRoutes } from './report-routes.js';

/**
 * The gateway's history routes (history, alerts over the whole trail,
 * export, report), wired from DATABASE_URL: set, they read PostgreSQL;
 * unset, history and alerts answer from the streams as before and export
 * and report answer 503 "history is off". Placed after the auth route.
 */
export function historyRouteSet(opts: {
  redis: Redis;
  keys: Keys;
  partitions: number;
  historyMaxScan: number;
  log: Logger;
  shutdown: Shutdown;
}): Route[] {
  const { databaseUrl } = loadOrExit('gateway', loadHistoryDatabaseUrl);
  const sql = databaseUrl ? connectHistory(databaseUrl, { name: 'quantmon gateway' }) : undefined;
  if (sql) opts.shutdown.register('history', () => sql.end());
  opts.log.info({ history: sql ? 'on' : 'off' }, 'history database');
  return [historyRoutes({ ...opts, sql }), exportRoutes({ sql }), reportRoutes({ sql })];
}
