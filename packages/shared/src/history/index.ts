// History in PostgreSQL: names, settings and the HTTP shapes of history, export and reports.
export * from './tables.js';
export * from './api.js';
export { scoreNumbers, systemNumbers, SYSTEM_FIELDS } from './numbers.js';
export {
  loadHistorianConfig,
  loadHistoryDatabaseUrl,
  type HistorianConfig,
  type HistoryRetention,
} from './config.js';
