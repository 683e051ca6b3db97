/**
 * Process plumbing shared by bench/pipeline.ts and bench/soak.ts: node
 * children of the repository (with or without an IPC channel), one IPC
 * order and its typed reply, the services `scripts/start.ts` started (from
 * /proc), a /healthz wait, and the wait until every partition is leased by a
 * scorer and an alerter (the pipeline is ready for load); and what stops
 * them all when the bench dies early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { exitOnSignals } from '../scripts/exit-reaper.js';
import { ROOT } from './collector-support.js';

/** `node <args>` in the repository; with `ipc`, stdout and stderr inherited, else stdout piped. */
export function child(args: string[], env: NodeJS.ProcessEnv, ipc = true): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

/**
 * Send `order` (none when undefined) and wait for the first message of
 * `type`; rejects on an `error` message or the child's exit.
 */
export function ask<R>(c: ChildProcess, order: unknown, type: string): Promise<R> {
  return new Promise((res, rej) => {
    const onExit = (code: number | null): void => rej(new Error(`child exited (${code})`));
    c.once('exit', onExit);
    const onMsg = (m: { type: string; message?: string }): void => {
      if (m.type === 'error') rej(new Error(m.message));
      else if (m.type !== type) return;
      c.off('message', onMsg);
      c.off('exit', onExit);
      res(m as R);
    };
    c.on('message', onMsg);
    if (order !== undefined) c.send(order as object);
  });
}

/** The services `scripts/start.ts` started, by name, from /proc (children of its pid). */
export function servicesOf(startPid: number): { name: string; pid: number }[] {
  const out: { name: string; pid: number }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== startPid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const m = /services\/(\w+)\/(?:src|dist)\/main/.exec(cmd);
      if (m) out.push({ name: m[1]!, pid: Number(d) });
    } catch {
      // gone
    }
  }
  const seen = new Map<string, number>();
  return out
    .sort((x, y) => x.name.localeCompare(y.name) || x.pid - y.pid)
    .map((s) => {
      const k = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, k);
      const many = out.filter((o) => o.name === s.name).length > 1;
      return { name: many ? `${s.name}-${k}` : s.name, pid: s.pid };
    });
}

export async function healthy(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not healthy in ${timeoutMs} ms`);
}

/** Wait until every partition is leased by a scorer and an alerter: the pipeline is ready. */
export async function waitLeased(redis: Redis, keys: Keys, partitions: number): Promise<void> {
  for (const owner of ['scorer', 'alerter'] as const) {
    const end = Date.now() + 60_000;
    for (let p = 0; p < partitions; p++) {
      while (!(await redis.exists(keys.partition(p).lease(owner)))) {
        if (Date.now() > end) throw new Error(`partition ${p} has no ${owner} after 60 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/**
 * A bench that dies before its cleanup (an uncaught error; its stdout closed
 * by `| head`, the next write failing) must not leave the pipeline running:
 * at exit the drivers (load, dashboards) are killed and npm start gets
 * SIGINT, on which it stops its services. Redis goes with spawnRedisServer's
 * exit hook, so the services may take their shutdown timeout to notice.
 *
 * A signal ends the bench through its exit listeners too (exitOnSignals,
 * scripts/exit-reaper.ts): stopped by `timeout`, `kill` or a closed
 * terminal, it left npm start and its Redis running beside the next bench.
 */
export function stopOnExit(
  start: ChildProcess,
  drivers: () => readonly (ChildProcess | undefined)[],
): void {
  process.once('exit', () => {
    for (const d of drivers()) d?.kill('SIGKILL');
    if (start.exitCode === null) start.kill('SIGINT');
  });
  exitOnSignals();
}
