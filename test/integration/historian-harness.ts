import type { ChildProcess } from 'node:child_process';
import {
  encodeEntry,
  keysFor,
  partitionOf,
  StrategySample,
  type Keys,
  type ScoreUpdate,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { HistoryDb } from '../../services/historian/src/database.js';
import { rows as query } from '../helpers/postgres.js';
import { answersHealth, eventually, onFreePort, spawnServiceChild } from '../helpers/services.js';
import { scoreUpdate } from '../helpers/score-fixtures.js';

/** The historian as a child process, and stream load for it (historian-*.test.ts). */

export interface RunningHistorian {
  port: number;
  output: () => string;
  stop: () => Promise<number | null>;
  kill: () => Promise<void>;
}

export function startHistorian(env: Record<string, string>): Promise<RunningHistorian> {
  return onFreePort(
    (port) => spawnHistorian(env, port),
    (h, port) =>
      eventually(
        async () => {
          if (h.proc.exitCode !== null) throw new Error(`historian exited early:\n${h.output()}`);
          return (await answersHealth(h.proc, port, [200, 503])) ? true : undefined;
        },
        60_000,
        'the historian to listen',
      ).then(() => undefined),
  );
}

function spawnHistorian(
  env: Record<string, string>,
  port: number,
): RunningHistorian & { proc: ChildProcess } {
  const child = spawnServiceChild('services/historian/src/main.ts', {
    ...env,
    HISTORIAN_PORT: String(port),
  });
  return { port, ...child };
}

export const PARTITIONS = 4;

/** A score update of `strategy` number `seq`, on its partition's scores stream; answers (part, id). */
export async function writeScores(
  redis: Redis,
  keys: Keys,
  updates: ScoreUpdate[],
): Promise<{ part: number; id: string }[]> {
  const tx = redis.multi();
  const parts = updates.map((u) => partitionOf(u.strategy, PARTITIONS));
  updates.forEach((u, i) => tx.xadd(keys.partition(parts[i]!).scores, '*', ...encodeEntry(u)));
  const res = (await tx.exec()) ?? [];
  return res.map(([err, id], i) => {
    if (err) throw err;
    return { part: parts[i]!, id: String(id) };
  });
}

/** Strategy samples on their partitions' streams (as ingest writes them). */
export async function writeSamples(
  redis: Redis,
  keys: Keys,
  samples: StrategySample[],
): Promise<{ part: number; id: string }[]> {
  const tx = redis.multi();
  const parts = samples.map((s) => partitionOf(s.strategy, PARTITIONS));
  samples.forEach((s, i) =>
    tx.xadd(
      keys.partition(parts[i]!).strategySamples,
      '*',
      ...encodeEntry(StrategySample.parse(s)),
    ),
  );
  const res = (await tx.exec()) ?? [];
  return res.map(([err, id], i) => {
    if (err) throw err;
    return { part: parts[i]!, id: String(id) };
  });
}

/**
 * Load: `rounds` batches of `perRound` score updates over a few strategies,
 * one batch every `everyMs`, until done or `signal` aborts. Answers every
 * entry written.
 */
export async function scoreLoad(
  redis: Redis,
  prefix: string,
  opts: { rounds: number; perRound: number; everyMs: number },
): Promise<{ part: number; id: string }[]> {
  const keys = keysFor(prefix);
  const written: { part: number; id: string }[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const batch = Array.from({ length: opts.perRound }, (_, i) =>
      scoreUpdate(`s${i % 7}`, r * opts.perRound + i, { sharpeRatio: i / 100 }),
    );
    written.push(...(await writeScores(redis, keys, batch)));
    await new Promise((res) => setTimeout(res, opts.everyMs));
  }
  return written;
}

/** The (part, entry id) of every score row, with how often each appears. */
export async function scoreRows(db: HistoryDb): Promise<Map<string, number>> {
  const rows = await query<{ part: number; entry_id: string }>(
    db,
    'select part, entry_id from score_updates',
  );
  const m = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.part}/${r.entry_id}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Until every written entry has exactly one row (or the timeout names what is missing). */
export async function waitAllCopied(
  sql: HistoryDb,
  written: { part: number; id: string }[],
  timeoutMs = 60_000,
): Promise<Map<string, number>> {
  let missing = written.length;
  return eventually(
    async () => {
      const rows = await scoreRows(sql);
      missing = written.filter((w) => !rows.has(`${w.part}/${w.id}`)).length;
      return missing === 0 ? rows : undefined;
    },
    timeoutMs,
    `every score entry in PostgreSQL (${missing} missing)`,
  );
}
