/**
 * What bench/soak.ts reads besides /proc: Redis's streams (their memory is
 * retention, judged apart), the strategies Redis tracks, npm start's restart
 * counter, and the services' own bookkeeping figures on /metrics (tracked
 * and forgotten strategies and subjects, open WebSocket connections, stream
 * entries trimmed by age and how far a consumer holds the trim back).
 */
import { GROUPS, STREAM_MAXLEN, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';

export interface StreamUse {
  bytes: number;
  entries: number;
}

/**
 * Bytes (MEMORY USAGE, exact: SAMPLES 0) and entries of every stream of the
 * pipeline, in all and per kind (the partitions' strategy samples, scores,
 * system samples and alerts, summed; the global streams as `global`).
 */
export async function streamMemory(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<StreamUse & { byKind: Record<string, StreamUse> }> {
  const names: [string, string][] = [keys.deadLetter, keys.alertCommands, keys.audit].map((k) => [
    'global',
    k,
  ]);
  for (let p = 0; p < partitions; p++) {
    const pk = keys.partition(p);
    for (const kind of ['strategySamples', 'systemSamples', 'scores', 'alerts'] as const)
      names.push([kind, pk[kind]]);
  }
  const pipe = redis.pipeline();
  for (const [, k] of names) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0').xlen(k);
  const replies = (await pipe.exec()) ?? [];
  const byKind: Record<string, StreamUse> = {};
  const all: StreamUse = { bytes: 0, entries: 0 };
  names.forEach(([kind], i) => {
    const use = (byKind[kind] ??= { bytes: 0, entries: 0 });
    const [bytes, entries] = [replies[2 * i]?.[1], replies[2 * i + 1]?.[1]];
    if (typeof bytes === 'number') {
      use.bytes += bytes;
      all.bytes += bytes;
    }
    if (typeof entries === 'number') {
      use.entries += entries;
      all.entries += entries;
    }
  });
  return { ...all, byKind };
}

/** Strategies Redis tracks: the fields of every partition's latest-scores hash. */
export async function trackedInRedis(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<number> {
  const pipe = redis.pipeline();
  for (let p = 0; p < partitions; p++) pipe.hlen(keys.partition(p).latestScores);
  return ((await pipe.exec()) ?? []).reduce((n, [, v]) => n + (Number(v) || 0), 0);
}

/**
 * Bytes of the state Redis keeps per strategy and subject, exactly (MEMORY
 * USAGE SAMPLES 0 of each hash): every partition's latest scores, ingest
 * last-ts, the alerter's last-seen, incidents and pending retirements, and
 * the hosts' latest samples. This, not used_memory less the streams, is
 * what forgetting must keep flat: the streams' own MEMORY USAGE is off by
 * a percent or so, which on hundreds of MiB of streams is more than this
 * whole state.
 */
export async function stateBytes(redis: Redis, keys: Keys, partitions: number): Promise<number> {
  const names = [keys.latestSystem];
  for (let p = 0; p < partitions; p++) {
    const pk = keys.partition(p);
    names.push(
      pk.latestScores,
      pk.ingestLastTs,
      pk.lastSeen,
      pk.incidents,
      pk.retire('scorer'),
      pk.retire('alerter'),
    );
  }
  const pipe = redis.pipeline();
  for (const k of names) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
  return ((await pipe.exec()) ?? []).reduce((n, [, v]) => n + (Number(v) || 0), 0);
}

/** Keys in Redis (INFO keyspace, every db): the idempotency marks are most of them. */
export function keyCount(keyspaceInfo: string): number {
  let n = 0;
  for (const m of keyspaceInfo.matchAll(/^db\d+:keys=(\d+)/gm)) n += Number(m[1]);
  return n;
}

/** npm start's restarts of every child (quantmon_supervisor_restarts_total); NaN if unreadable. */
export async function restartsCounted(supervisorPort: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${supervisorPort}/metrics`)).text();
    let n = 0;
    for (const m of text.matchAll(/^quantmon_supervisor_restarts_total\{[^}]*\} (\d+)/gm))
      n += Number(m[1]);
    return n;
  } catch {
    return NaN;
  }
}

/** The figures of the services' /metrics that say what they hold: `name value` per line. */
export async function bookkeeping(ports: readonly number[]): Promise<string[]> {
  const out: string[] = [];
  for (const port of ports) {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // Labels kept but the service's own (every line has it): forgotten{reason}, trimmed{stream}.
      for (const m of text.matchAll(
        /^(quantmon_\w*(?:tracked|forgotten|connections|trimmed|held_back)\w*)(\{[^}]*\})? (\S+)$/gm,
      ))
        out.push(
          `${m[1]}${(m[2] ?? '')
            .replace(/,?service="[^"]*"/, '')
            .replace('{,', '{')
            .replace('{}', '')} ${m[3]}`,
        );
    } catch {
      out.push(`:${port}/metrics unreadable`);
    }
  }
  return out;
}

/**
 * What the streams will hold once trimmed at their MAXLEN (keys.ts), at
 * the bytes per entry measured now: the bound of Redis's memory that is
 * retention, not state.
 */
export function streamBound(
  byKind: Record<string, StreamUse>,
  partitions: number,
): { kind: string; bytesPerEntry: number; boundBytes: number }[] {
  const out: { kind: string; bytesPerEntry: number; boundBytes: number }[] = [];
  for (const kind of ['strategySamples', 'scores', 'systemSamples', 'alerts'] as const) {
    const u = byKind[kind];
    if (!u || u.entries === 0) continue;
    const perEntry = u.bytes / u.entries;
    out.push({
      kind,
      bytesPerEntry: perEntry,
      boundBytes: perEntry * STREAM_MAXLEN[kind] * partitions,
    });
  }
  return out;
}

/**
 * Entries not yet delivered to the scorer (strategy samples) and to the
 * alerter (scores), summed over the partitions (XINFO GROUPS `lag`): a
 * pipeline behind its load holds the backlog in its read batches, which
 * shows as memory.
 */
export async function consumerLag(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<{ scorer: number; alerter: number }> {
  const lagOf = async (key: string, group: string): Promise<number> => {
    try {
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
      for (const g of groups) {
        const f = new Map<string, unknown>();
        for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
        if (f.get('name') === group) return Number(f.get('lag')) || 0;
      }
    } catch {
      // no stream yet
    }
    return 0;
  };
  let scorer = 0;
  let alerter = 0;
  for (let p = 0; p < partitions; p++) {
    const pk = keys.partition(p);
    scorer += await lagOf(pk.strategySamples, GROUPS.scorer);
    alerter += await lagOf(pk.scores, GROUPS.alerter);
  }
  return { scorer, alerter };
}
