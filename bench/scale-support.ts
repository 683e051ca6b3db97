/**
 * Support for bench/scale.ts: the load process over IPC, CPU snapshots of
 * processes and of the machine from /proc, the wait until every partition
 * is owned by exactly one replica (scorers, alerters), and the wait until a
 * group has consumed the newest entry of its stream in every partition.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { assignPartitions, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { eventually, type RunningService } from '../test/helpers/services.js';
import { groupState } from '../test/helpers/streams.js';
import { cpuSeconds, ROOT } from './collector-support.js';
import type { LoadOrder, LoadReply } from './scale-load.js';
import { killOnExit } from '../scripts/exit-reaper.js';

export interface LoadProcess {
  pid: number;
  /** Send one order and wait for its reply; rejects on an `error` reply or the process's exit. */
  order(o: LoadOrder): Promise<LoadReply>;
  stop(): Promise<void>;
}

/** bench/scale-load.ts as a child process with an IPC channel. */
export function startLoad(): LoadProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/scale-load.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killOnExit(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    pid: child.pid ?? 0,
    order: (o) =>
      new Promise<LoadReply>((resolve, reject) => {
        const onExit = (code: number | null): void =>
          reject(new Error(`load process exited (${code}) during ${o.type}`));
        child.once('exit', onExit);
        child.once('message', (reply: LoadReply) => {
          child.off('exit', onExit);
          if (reply.type === 'error') reject(new Error(`load process: ${reply.message}`));
          else resolve(reply);
        });
        child.send(o);
      }),
    stop: async () => {
      if (child.connected) child.send({ type: 'exit' } satisfies LoadOrder);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Busy and total CPU seconds of the whole machine, from the first line of /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const v = f.map(Number);
  const total = v.slice(0, 8).reduce((a, x) => a + x, 0); // user..steal (guest is inside user)
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  // /proc/stat counts in USER_HZ, 100 on Linux whatever the kernel's HZ.
  return { busy: (total - idle) / 100, total: total / 100 };
}

/** CPU seconds of each pid, read in one go. */
export function cpuOf(pids: readonly number[]): number[] {
  return pids.map((pid) => cpuSeconds(pid));
}

interface Health {
  replica: string;
  partitions: number[];
}

async function health(svc: RunningService): Promise<Health> {
  return (await (await fetch(`http://127.0.0.1:${svc.port}/healthz`)).json()) as Health;
}

/**
 * Wait until the replicas' /healthz show every partition owned exactly
 * once, each replica holding what assignPartitions gives it among the
 * replicas (the settled state after a start-up rebalance). Answers each
 * replica's partitions.
 */
export async function waitOwnership(
  scorers: readonly RunningService[],
  partitions: number,
): Promise<number[][]> {
  let last = '';
  try {
    return await eventually(
      async () => {
        const infos = await Promise.all(scorers.map(health));
        last = infos.map((i) => `${i.replica}: [${i.partitions.join(',')}]`).join('; ');
        const owned = infos.flatMap((i) => i.partitions);
        if (owned.length !== partitions || new Set(owned).size !== partitions) return undefined;
        const assigned = assignPartitions(
          infos.map((i) => i.replica),
          partitions,
        );
        for (const i of infos) {
          for (const p of i.partitions) if (assigned[p] !== i.replica) return undefined;
        }
        return infos.map((i) => i.partitions);
      },
      60_000,
      'every partition owned by exactly one scorer replica',
    );
  } catch (err) {
    const logs = scorers.map((s) => s.output().slice(-2000)).join('\n---\n');
    throw new Error(`${(err as Error).message}; last seen ${last}\n${logs}`, { cause: err });
  }
}

function field(flat: unknown, name: string): unknown {
  if (!Array.isArray(flat)) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/** XINFO STREAM's newest id and entries ever added; `0-0` and 0 when the stream does not exist. */
export async function streamHead(
  redis: Redis,
  key: string,
): Promise<{ newest: string; added: number }> {
  try {
    const info = await redis.xinfo('STREAM', key);
    return {
      newest: String(field(info, 'last-generated-id')),
      added: Number(field(info, 'entries-added')),
    };
  } catch (err) {
    if ((err as Error).message.includes('no such key')) return { newest: '0-0', added: 0 };
    throw err;
  }
}

/** Score updates ever written, summed over the partitions. */
export async function scoresWritten(redis: Redis, keys: Keys, partitions: number): Promise<number> {
  const heads = await Promise.all(
    Array.from({ length: partitions }, (_, p) => streamHead(redis, keys.partition(p).scores)),
  );
  return heads.reduce((a, h) => a + h.added, 0);
}

/**
 * Wait until, on every partition, `group`'s last-delivered-id on `stream`
 * is the stream's newest id (an owner commits its group position in the
 * same step as its output: for the scorer on the sample stream, everything
 * published is scored). Call it once the stream's writers are done: the
 * newest ids no longer move. Polls every `pollMs` only the partitions not
 * yet drained.
 */
export async function waitDrained(
  redis: Redis,
  keys: Keys,
  partitions: number,
  stream: 'strategySamples' | 'scores',
  group: string,
  timeoutMs: number,
  pollMs = 20,
): Promise<void> {
  const pending = new Map<number, string>();
  await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      const { newest } = await streamHead(redis, keys.partition(p)[stream]);
      if (newest !== '0-0') pending.set(p, newest);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    await Promise.all(
      [...pending].map(async ([p, newest]) => {
        const g = await groupState(redis, keys.partition(p)[stream], group);
        if (g?.lastDeliveredId === newest) pending.delete(p);
      }),
    );
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const which = [...pending.keys()].join(', ');
      throw new Error(`${group} not drained on ${stream} of ${which} in ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
