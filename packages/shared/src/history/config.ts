import { z } from 'zod';
import {
  CommonEnv,
  common,
  int,
  parseEnv,
  port,
  type CommonConfig,
  type Env,
} from '../config/env.js';

/**
 * History settings: the historian's, and the one every history reader (the
 * gateway, `npm run report`) needs, DATABASE_URL. Environment variable names
 * live here and in config/, nowhere else.
 */

const DatabaseUrl = z
  .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
  .optional();

/** Retention in days; 0 keeps forever. */
const days = (fallback: number) => int(fallback, 0, 36_500);

const HistorianEnv = CommonEnv.extend({
  HISTORIAN_PORT: port(8085),
  DATABASE_URL: z.url({
    protocol: /^postgres(ql)?$/,
    error: 'required: a postgres:// or postgresql:// URL of the history database',
  }),
  /** Most entries read per stream per round (and so per PostgreSQL transaction, times the streams). */
  HISTORIAN_BATCH: int(1000, 1, 100_000),
  /** Pause after a round that found nothing new. */
  HISTORIAN_POLL_MS: int(200, 10, 60_000),
  /** Entries pending this long on another (dead) historian are claimed. */
  HISTORIAN_CLAIM_IDLE_MS: int(30_000, 100, 3_600_000),
  /** How often partitions are created ahead and retention drops old ones. */
  HISTORIAN_MAINTENANCE_MS: int(600_000, 1000, 86_400_000),
  HISTORY_RAW_RETENTION_DAYS: days(14),
  HISTORY_SAMPLES_RETENTION_DAYS: days(0),
  HISTORY_ROLLUP_1M_RETENTION_DAYS: days(90),
  HISTORY_ROLLUP_1H_RETENTION_DAYS: days(0),
});

export interface HistoryRetention {
  /** Full-resolution score updates and system samples. */
  rawDays: number;
  /** Raw strategy samples (the report's returns). */
  samplesDays: number;
  rollup1mDays: number;
  rollup1hDays: number;
}

export interface HistorianConfig extends CommonConfig {
  port: number;
  databaseUrl: string;
  batch: number;
  pollMs: number;
  claimIdleMs: number;
  maintenanceMs: number;
  retention: HistoryRetention;
}

export function loadHistorianConfig(env: Env): HistorianConfig {
  const e = parseEnv(HistorianEnv, env);
  return {
    ...common(e, 'historian'),
    port: e.HISTORIAN_PORT,
    databaseUrl: e.DATABASE_URL,
    batch: e.HISTORIAN_BATCH,
    pollMs: e.HISTORIAN_POLL_MS,
    claimIdleMs: e.HISTORIAN_CLAIM_IDLE_MS,
    maintenanceMs: e.HISTORIAN_MAINTENANCE_MS,
    retention: {
      rawDays: e.HISTORY_RAW_RETENTION_DAYS,
      samplesDays: e.HISTORY_SAMPLES_RETENTION_DAYS,
      rollup1mDays: e.HISTORY_ROLLUP_1M_RETENTION_DAYS,
      rollup1hDays: e.HISTORY_ROLLUP_1H_RETENTION_DAYS,
    },
  };
}

/** A history reader's setting: the database, or undefined when history is off. */
export function loadHistoryDatabaseUrl(env: Env): { databaseUrl: string | undefined } {
  const e = parseEnv(z.object({ DATABASE_URL: DatabaseUrl }), {
    DATABASE_URL: env['DATABASE_URL'] === '' ? undefined : env['DATABASE_URL'],
  });
  return { databaseUrl: e.DATABASE_URL };
}
