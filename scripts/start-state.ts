/**
 * What `npm start` keeps between runs, and `--fresh` to drop it. Its own
 * Redis (AOF under .quantmon/redis-<gateway port>/) and its embedded
 * PostgreSQL (.quantmon/postgres/) survive a restart, so a new run resumes
 * the previous one's windows, incidents and strategies, demo ones included.
 * The banner says what was restored; `--fresh` removes those folders first
 * (nothing else: a REDIS_URL or DATABASE_URL of your own is never touched).
 */
import { existsSync, rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { keysFor } from '../packages/shared/src/keys.js';

export interface RestoredState {
  strategies: number;
  /** Of which named demo-* (the demo feed's). */
  demo: number;
  openIncidents: number;
  hosts: number;
}

/** Counts what a Redis holds for the pipeline under `prefix` (HLEN and HKEYS per partition: a local Redis). */
export async function restoredState(redisUrl: string, prefix: string): Promise<RestoredState> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = keysFor(prefix);
    const partitions = Number((await redis.get(keys.partitionCount)) ?? 0);
    const out: RestoredState = { strategies: 0, demo: 0, openIncidents: 0, hosts: 0 };
    for (let p = 0; p < partitions; p++) {
      const pk = keys.partition(p);
      const names = await redis.hkeys(pk.latestScores);
      out.strategies += names.length;
      out.demo += names.filter((n) => n.startsWith('demo-')).length;
      out.openIncidents += await redis.hlen(pk.incidents);
    }
    out.hosts = await redis.hlen(keys.latestSystem);
    return out;
  } finally {
    redis.disconnect();
  }
}

/** The banner line for what a run restored; undefined when nothing was. */
export function restoredLine(s: RestoredState, demoOn: boolean): string | undefined {
  if (s.strategies === 0 && s.openIncidents === 0) return undefined;
  const demo =
    s.demo > 0
      ? ` (${s.demo} demo-*${demoOn ? '' : ' from an earlier demo run: retire them with DELETE /api/strategies/{id}'})`
      : '';
  return (
    `restored state from .quantmon/: ${s.strategies} strategies${demo}, ` +
    `${s.openIncidents} open incidents, ${s.hosts} hosts; ` +
    'run `npm start -- --fresh` to start clean'
  );
}

/**
 * `--fresh`: remove npm start's own data folders before anything starts.
 * Returns what it removed, for the log (an empty list: there was nothing).
 */
export function wipeLocalState(dirs: readonly string[]): string[] {
  const removed: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
