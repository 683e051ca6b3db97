import type { Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RowCounts } from './history-writer.js';
import { copierLag } from './stream-copier.js';

/** The historian's /metrics: rows written, batches, errors, and its lag behind the streams. */
export function registerHistorianMetrics(opts: {
  registry: Registry;
  redis: Redis;
  keys: Keys;
  partitions: number;
}) {
  const registers = [opts.registry];
  const rows = new Counter({
    name: 'quantmon_historian_rows_written_total',
    help: 'Rows inserted into PostgreSQL (a redelivered entry adds none)',
    labelNames: ['table'],
    registers,
  });
  const entries = new Counter({
    name: 'quantmon_historian_entries_total',
    help: 'Stream entries copied and acknowledged',
    registers,
  });
  const batch = new Histogram({
    name: 'quantmon_historian_batch_seconds',
    help: 'Time to write one batch to PostgreSQL (one transaction)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const errors = new Counter({
    name: 'quantmon_historian_errors_total',
    help: 'Rounds that failed (PostgreSQL or Redis unavailable): retried, nothing acked',
    registers,
  });
  const malformed = new Counter({
    name: 'quantmon_historian_malformed_total',
    help: 'Entries that failed their schema (skipped: the working consumer dead-letters them)',
    registers,
  });
  const dropped = new Counter({
    name: 'quantmon_historian_partitions_dropped_total',
    help: 'Time partitions dropped by retention',
    registers,
  });
  const lastCommit = new Gauge({
    name: 'quantmon_historian_last_commit_seconds',
    help: 'Unix time of the last round that committed or found nothing to copy',
    registers,
  });
  let lastRoundAt = 0;
  let lastErrorAt = 0;
  new Gauge({
    name: 'quantmon_historian_lag_entries',
    help: 'Entries in the streams not yet copied (group lag plus pending), per kind',
    labelNames: ['kind'],
    registers,
    async collect() {
      const lag = await copierLag(opts.redis, opts.keys, opts.partitions).catch(() => undefined);
      if (!lag) return;
      for (const [kind, n] of Object.entries(lag)) this.set({ kind }, n);
    },
  });
  return {
    written(counts: RowCounts, n: number, seconds: number): void {
      for (const [table, c] of Object.entries(counts)) rows.inc({ table }, c);
      entries.inc(n);
      batch.observe(seconds);
    },
    round(): void {
      lastRoundAt = Date.now();
      lastCommit.set(lastRoundAt / 1000);
    },
    failed(): void {
      lastErrorAt = Date.now();
      errors.inc();
    },
    malformed: (): void => malformed.inc(),
    dropped: (n: number): void => dropped.inc(n),
    /** Healthy unless the latest round failed (PostgreSQL down: it waits and catches up). */
    postgresOk: (): boolean => lastErrorAt <= lastRoundAt,
    lastCommitAt: (): number | null => (lastRoundAt ? lastRoundAt : null),
    close(): void {
      opts.registry.removeSingleMetric('quantmon_historian_lag_entries');
    },
  };
}
