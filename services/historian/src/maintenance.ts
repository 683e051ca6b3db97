import { abortableSleep, type Logger } from '@quantmon/shared';
import type { HistoryDb } from './database.js';
import { createAhead, dropExpired, type PartitionedTable } from './time-partitions.js';

/**
 * Every `everyMs`: partitions for today and the next two days exist before
 * rows need them, and partitions past their retention are dropped. Any
 * replica may run it: the DDL is serialised by an advisory lock and
 * idempotent.
 */
export async function runMaintenance(opts: {
  sql: HistoryDb;
  specs: readonly PartitionedTable[];
  everyMs: number;
  signal: AbortSignal;
  log: Logger;
  onDropped?: (n: number) => void;
}): Promise<void> {
  const { sql, specs, signal, log } = opts;
  while (!signal.aborted) {
    try {
      const now = Date.now();
      await createAhead(sql, specs, now);
      for (const spec of specs) {
        const dropped = await dropExpired(sql, spec, now);
        if (dropped.length > 0) {
          log.info({ table: spec.table, dropped }, 'retention dropped partitions');
          opts.onDropped?.(dropped.length);
        }
      }
    } catch (err) {
      if (signal.aborted) break;
      log.warn({ err }, 'history maintenance failed, will retry');
    }
    await abortableSleep(opts.everyMs, signal);
  }
}
