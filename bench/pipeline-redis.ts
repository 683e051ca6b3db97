/**
 * What bench:pipeline reads from its Redis: the time per command, and the
 * stalls Redis itself causes (forks for AOF rewrites, fsyncs the disk was
 * late with, events its latency monitor saw), so a latency figure can be
 * told apart from a pause of the broker every stage waits on.
 */
import type { Redis } from 'ioredis';

/** INFO commandstats as rows, the costliest first (scripts' inner commands are counted too). */
export function commandStats(info: string): { name: string; calls: number; usec: number }[] {
  const rows: { name: string; calls: number; usec: number }[] = [];
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) rows.push({ name: m[1]!, calls: Number(m[2]), usec: Number(m[3]) });
  }
  return rows.sort((x, y) => y.usec - x.usec);
}

/** What each command cost between two readings of INFO commandstats (commands unchanged are left out). */
export function commandDelta(
  before: ReturnType<typeof commandStats>,
  after: ReturnType<typeof commandStats>,
): ReturnType<typeof commandStats> {
  const was = new Map(before.map((c) => [c.name, c]));
  return after
    .map((c) => ({
      name: c.name,
      calls: c.calls - (was.get(c.name)?.calls ?? 0),
      usec: c.usec - (was.get(c.name)?.usec ?? 0),
    }))
    .filter((c) => c.calls > 0)
    .sort((x, y) => y.usec - x.usec);
}

export interface RedisPauses {
  forks: number;
  latestForkUs: number;
  aofRewrites: number;
  delayedFsyncs: number;
  /** A rewrite child was running when read (it takes a core while it writes). */
  rewriting: boolean;
  /** The AOF's size on disk, bytes (a rewrite replaces what it held with the dataset). */
  aofBytes: number;
  /** The latency monitor's events: name, worst ms since it was reset. */
  events: { name: string; maxMs: number }[];
}

function infoField(info: string, name: string): number {
  const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

/** Start the latency monitor afresh: events of `thresholdMs` or more from now on. */
export async function watchRedisPauses(redis: Redis, thresholdMs: number): Promise<RedisPauses> {
  await redis.config('SET', 'latency-monitor-threshold', String(thresholdMs));
  await redis.call('LATENCY', 'RESET');
  return redisPauses(redis);
}

export async function redisPauses(redis: Redis): Promise<RedisPauses> {
  const info = await redis.info('all');
  const latest = (await redis.call('LATENCY', 'LATEST')) as [string, number, number, number][];
  return {
    forks: infoField(info, 'total_forks'),
    latestForkUs: infoField(info, 'latest_fork_usec'),
    aofRewrites: infoField(info, 'aof_rewrites'),
    delayedFsyncs: infoField(info, 'aof_delayed_fsync'),
    rewriting: infoField(info, 'aof_rewrite_in_progress') === 1,
    aofBytes: infoField(info, 'aof_current_size'),
    events: latest.map(([name, , , max]) => ({ name, maxMs: Number(max) })),
  };
}

/**
 * One line: what Redis paused for between two readings, and what it appended
 * to its AOF per sample (`samples` in between; known only when no rewrite
 * ran in between, as a rewrite replaces the file).
 */
export function describePauses(a: RedisPauses, b: RedisPauses, samples: number): string {
  const events = b.events.map((e) => `${e.name} ${e.maxMs} ms`).join(', ') || 'none';
  const grown = b.aofBytes - a.aofBytes;
  const aof =
    b.aofRewrites === a.aofRewrites && !a.rewriting && !b.rewriting && samples > 0
      ? `AOF appended ${(grown / 1e6).toFixed(0)} MB, ${Math.round(grown / samples)} B per sample; `
      : '';
  return (
    aof +
    `forks ${b.forks - a.forks} (latest ${(b.latestForkUs / 1000).toFixed(1)} ms), ` +
    `AOF rewrites ${b.aofRewrites - a.aofRewrites}${a.rewriting ? ' (one running at the start)' : ''}, delayed fsyncs ${b.delayedFsyncs - a.delayedFsyncs}; ` +
    `latency monitor worst: ${events}`
  );
}

/** Entries ever added to one kind of partition stream, over every partition (XLEN undercounts once MAXLEN trims). */
export async function entriesAdded(redis: Redis, streams: readonly string[]): Promise<number> {
  let total = 0;
  for (const key of streams) {
    try {
      const info = (await redis.xinfo('STREAM', key)) as unknown[];
      total += Number(info[info.indexOf('entries-added') + 1]);
    } catch {
      // not created yet: nothing added
    }
  }
  return total;
}
