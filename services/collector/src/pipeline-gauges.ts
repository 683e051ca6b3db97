import { allPartitions, emergencyFailedKey, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import { readEach, type Command } from './read-each.js';
import { parseGroups } from './xinfo.js';

/** The streams whose consumer groups are watched, by the label they get. */
const WATCHED = ['strategy-samples', 'scores', 'system-samples'] as const;
type Watched = (typeof WATCHED)[number];

export interface PipelineBacklog {
  /** Per stream and group, entries not yet delivered (or pending, where Redis cannot tell), summed over partitions. */
  lag: { stream: Watched; group: string; entries: number }[];
  deadLetters: number | undefined;
  failedJobs: number | undefined;
}

/**
 * One reading of the pipeline's backlog: what Prometheus alerts on (a
 * consumer falling behind, dead letters piling up, emergency jobs failing).
 * The same XINFO the ingest back-pressure reads, for every group.
 */
export async function readPipelineBacklog(
  redis: Redis,
  keys: Keys,
  partitions: number,
  bullPrefix: string,
): Promise<PipelineBacklog> {
  const commands: Command[] = [
    ['XLEN', keys.deadLetter],
    ['ZCARD', emergencyFailedKey(bullPrefix)],
  ];
  for (const p of allPartitions(partitions)) {
    const pk = keys.partition(p);
    const of: Record<Watched, string> = {
      'strategy-samples': pk.strategySamples,
      scores: pk.scores,
      'system-samples': pk.systemSamples,
    };
    for (const s of WATCHED) commands.push(['XINFO', 'GROUPS', of[s]]);
  }
  const replies = await readEach(redis, commands);
  const count = (i: number): number | undefined => {
    const r = replies[i];
    return r?.ok && typeof r.value === 'number' ? r.value : undefined;
  };
  const sums = new Map<string, { stream: Watched; group: string; entries: number }>();
  let i = 2;
  for (let p = 0; p < partitions; p++) {
    for (const stream of WATCHED) {
      const r = replies[i++];
      if (!r?.ok) continue; // no such stream yet: nothing behind
      for (const g of parseGroups(r.value)) {
        const behind = g.lag ?? g.pending ?? 0;
        const key = `${stream}\u0000${g.name}`;
        const sum = sums.get(key) ?? { stream, group: g.name, entries: 0 };
        sum.entries += behind;
        sums.set(key, sum);
      }
    }
  }
  return { lag: [...sums.values()], deadLetters: count(0), failedJobs: count(1) };
}

/** Gauges read from Redis at each scrape (the collector has the connection and P). */
export function registerPipelineGauges(
  registry: Registry,
  read: () => Promise<PipelineBacklog>,
): void {
  const registers = [registry];
  // One read per scrape, shared by the three gauges (collected one after the other).
  let pending: Promise<PipelineBacklog | undefined> | undefined;
  const reading = (): Promise<PipelineBacklog | undefined> => {
    pending ??= read()
      .catch(() => undefined) // Redis down: the gauges go absent, `up` and /healthz say why
      .finally(() => setTimeout(() => (pending = undefined), 1000).unref());
    return pending;
  };
  new Gauge({
    name: 'quantmon_consumer_lag_entries',
    help: 'Entries a consumer group has not been delivered yet, summed over partitions',
    labelNames: ['stream', 'group'],
    registers,
    async collect() {
      const r = await reading();
      this.reset();
      for (const l of r?.lag ?? []) this.set({ stream: l.stream, group: l.group }, l.entries);
    },
  });
  new Gauge({
    name: 'quantmon_dead_letter_entries',
    help: 'Entries in the dead-letter stream (malformed entries set aside; trimmed)',
    registers,
    async collect() {
      const r = await reading();
      this.reset();
      if (r?.deadLetters !== undefined) this.set(r.deadLetters);
    },
  });
  new Gauge({
    name: 'quantmon_emergency_jobs_failed',
    help: 'Emergency jobs in the failed set of the BullMQ queue (failed after every attempt)',
    registers,
    async collect() {
      const r = await reading();
      this.reset();
      if (r?.failedJobs !== undefined) this.set(r.failedJobs);
    },
  });
}
