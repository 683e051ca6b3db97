/**
 * What bench/soak.ts reads besides /proc: Redis's streams (their memory is
 * retention, judged apart), the strategies Redis tracks, npm start's restart
 * counter, and the services' own bookkeeping figures on /metrics (tracked
 * and forgotten strategies and subjects, open WebSocket connections).
 */
import type { Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';

/** Bytes of every stream of the pipeline (MEMORY USAGE, exact: SAMPLES 0), and their entries. */
export async function streamMemory(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<{ bytes: number; entries: number }> {
  const names = [keys.deadLetter, keys.alertCommands, keys.audit];
  for (let p = 0; p < partitions; p++) {
    const pk = keys.partition(p);
    names.push(pk.strategySamples, pk.systemSamples, pk.scores, pk.alerts);
  }
  const pipe = redis.pipeline();
  for (const k of names) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0').xlen(k);
  const replies = (await pipe.exec()) ?? [];
  let bytes = 0;
  let entries = 0;
  replies.forEach(([err, v], i) => {
    if (err || typeof v !== 'number') return;
    if (i % 2 === 0) bytes += v;
    else entries += v;
  });
  return { bytes, entries };
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
      for (const m of text.matchAll(
        /^(quantmon_\w*(?:tracked|forgotten|connections)\w*)(?:\{[^}]*\})? (\S+)$/gm,
      ))
        out.push(`${m[1]} ${m[2]}`);
    } catch {
      out.push(`:${port}/metrics unreadable`);
    }
  }
  return out;
}
