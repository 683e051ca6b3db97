import { readdirSync, readFileSync } from 'node:fs';
import { HISTORIAN_GROUP, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { sourceGroups } from '../services/historian/src/stream-copier.js';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { cpuSeconds } from './collector-support.js';

/**
 * History in the benches: a database of their own (DATABASE_URL's server, or
 * an embedded PostgreSQL on a free port, deleted afterwards), the
 * historian's progress read from its consumer group (XINFO GROUPS: entries
 * committed and acknowledged, and what is left), and PostgreSQL's CPU.
 */

export interface BenchHistory {
  /** The bench's own database: DATABASE_URL for the services. */
  url: string;
  /** The embedded server's postmaster, when the bench started one. */
  postmaster: number | undefined;
  dispose(): Promise<void>;
}

export async function startBenchHistory(): Promise<BenchHistory> {
  const pg: TestPostgres = await startPostgres();
  return { url: pg.url, postmaster: pg.server?.process().pid, dispose: () => pg.dispose() };
}

/** CPU seconds of a PostgreSQL server: the postmaster and its live children (backends, workers). */
export function postgresCpu(postmaster: number | undefined): number {
  if (postmaster === undefined) return NaN;
  let total = cpuSeconds(postmaster);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += cpuSeconds(Number(d));
    } catch {
      // gone
    }
  }
  return total;
}

export interface HistorianProgress {
  /** Entries the group has read and acknowledged (written and committed), all streams. */
  committed: number;
  /** Entries not yet committed: the group's lag plus its pending. */
  left: number;
}

/** The historian group's progress over every stream it copies (XINFO GROUPS, Redis 7). */
export async function historianProgress(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<HistorianProgress> {
  const p: HistorianProgress = { committed: 0, left: 0 };
  const sources = sourceGroups(keys, partitions).flat();
  await Promise.all(
    sources.map(async (s) => {
      const groups = (await redis.xinfo('GROUPS', s.key).catch(() => [])) as unknown[][];
      for (const g of groups) {
        const f = new Map<string, unknown>();
        for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
        if (f.get('name') !== HISTORIAN_GROUP) continue;
        const pending = Number(f.get('pending') ?? 0);
        p.committed += Number(f.get('entries-read') ?? 0) - pending;
        p.left += Number(f.get('lag') ?? 0) + pending;
      }
    }),
  );
  return p;
}

/** Samples the historian's lag while a phase runs: the largest seen and where it ended. */
export function watchHistorian(
  redis: Redis,
  keys: Keys,
  partitions: number,
  everyMs = 500,
): { stop(): Promise<{ maxLeft: number; samples: number }> } {
  let maxLeft = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const p = await historianProgress(redis, keys, partitions).catch(() => undefined);
      if (p) {
        maxLeft = Math.max(maxLeft, p.left);
        samples++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { maxLeft, samples };
    },
  };
}

/** Wait until the historian has committed everything (or the timeout passed): seconds waited. */
export async function historianDrained(
  redis: Redis,
  keys: Keys,
  partitions: number,
  timeoutMs: number,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if ((await historianProgress(redis, keys, partitions)).left === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return (performance.now() - t0) / 1000;
}
