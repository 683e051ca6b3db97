/**
 * Support for bench/collector.ts and bench/ingest.ts: a private
 * redis-server on a free port (never the machine's Redis), a collector
 * child process, CPU time of a process from /proc, and percentiles.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, spawnRedisServer } from '../scripts/local-redis.js';
import { killOnExit } from '../scripts/exit-reaper.js';

export const ROOT = resolve(import.meta.dirname, '..');

export interface Proc {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

function wrap(child: ChildProcess): Proc {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** redis-server without persistence (the benchmarks measure quantmon, not fsync). */
export async function benchRedis(): Promise<{ url: string; proc: Proc; dispose(): Promise<void> }> {
  const redis = await spawnRedisServer({ persistence: 'none' });
  return { url: redis.url, proc: wrap(redis.proc()), dispose: () => redis.dispose() };
}

/** The collector as `npm start` runs it; resolves once /healthz answers. */
export async function startCollector(
  env: Record<string, string>,
): Promise<Proc & { port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/collector/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, COLLECTOR_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  killOnExit(child);
  const proc = wrap(child);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('collector exited early');
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { ...proc, port };
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('collector not healthy in 30 s');
}

/** Any other process to compare against (the baseline). */
export function startProcess(args: string[]): Proc {
  const c = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  killOnExit(c);
  return wrap(c);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CPU seconds used so far by a process and its reaped children (utime+stime+cutime+cstime). */
/** The fields of /proc/<pid>/stat after the command name (the first is the state, field 3). */
function statFields(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

export function cpuSeconds(pid: number): number {
  const rest = statFields(pid);
  const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(rest[i]), 0);
  return ticks / CLK_TCK;
}

/**
 * CPU seconds of a process's children that it has waited for (cutime +
 * cstime): for redis-server, its AOF rewrite and RDB children, counted
 * once they exit.
 */
export function childCpuSeconds(pid: number): number {
  const rest = statFields(pid);
  return (Number(rest[13]) + Number(rest[14])) / CLK_TCK;
}

export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

export const pct = (x: number): string => `${(x * 100).toFixed(3)} %`;
