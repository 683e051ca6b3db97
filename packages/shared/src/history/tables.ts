/**
 * The history database's names in one place (as keys.ts is for Redis): the
 * historian writes these tables, the gateway and `npm run report` read them.
 */
export const HISTORY_TABLES = {
  strategySamples: 'strategy_samples',
  scoreUpdates: 'score_updates',
  systemSamples: 'system_samples',
  scoreRollup1m: 'score_rollup_1m',
  scoreRollup1h: 'score_rollup_1h',
  systemRollup1m: 'system_rollup_1m',
  systemRollup1h: 'system_rollup_1h',
  alertEvents: 'alert_events',
  auditEvents: 'audit_events',
} as const;

/** The historian's consumer group on every stream it copies. */
export const HISTORIAN_GROUP = 'historian';

/** Rollup widths, ms. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A stream entry id `<ms>-<seq>` split into its parts (both fit a bigint column). */
export function splitEntryId(id: string): { ms: number; seq: number } {
  const dash = id.indexOf('-');
  const ms = Number(id.slice(0, dash));
  const seq = Number(id.slice(dash + 1));
  if (dash < 1 || !Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) {
    throw new Error(`not a stream entry id: ${JSON.stringify(id)}`);
  }
  return { ms, seq };
}
