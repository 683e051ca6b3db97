import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './redis-server.js';
import { killOnExit } from '../../scripts/exit-reaper.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export type ServiceName = 'collector' | 'scorer' | 'alerter' | 'gateway';

export interface RunningService {
  name: ServiceName;
  port: number;
  proc: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output: () => string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop: () => Promise<number | null>;
  /** SIGKILL: a crash, no cleanup. */
  kill: () => Promise<void>;
}

const PORT_VAR: Record<ServiceName, string> = {
  collector: 'COLLECTOR_PORT',
  scorer: 'SCORER_PORT',
  alerter: 'ALERTER_PORT',
  gateway: 'GATEWAY_PORT',
};

/** Start one service as a real child process, the way `npm start` does. */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  port?: number,
): Promise<RunningService> {
  if (port !== undefined) {
    const svc = spawnService(name, env, port);
    await waitHealthy(svc);
    return svc;
  }
  return onFreePort(
    (p) => spawnService(name, env, p),
    (svc) => waitHealthy(svc),
  );
}

/**
 * Spawn a child on a port from freePort() and wait until `ready`. The port
 * is free when asked, not when the child binds it: another suite's process
 * can take it in between. Then the child exits with EADDRINUSE and is
 * started again on another port (3 tries).
 */
export async function onFreePort<C extends { proc: ChildProcess; output: () => string }>(
  spawnAt: (port: number) => C,
  ready: (child: C, port: number) => Promise<void>,
): Promise<C> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawnAt(port);
    try {
      await ready(child, port);
      return child;
    } catch (err) {
      if (attempt >= 3 || !portTaken(child)) throw err;
    }
  }
}

/** A service's process as the tests hold it: its output, and a stop and a kill that wait for the exit. */
export interface ServiceChild {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
  kill: () => Promise<void>;
}

/** Spawn `node --import tsx <script>` from the repository root, output captured, LOG_LEVEL warn. */
export function spawnServiceChild(script: string, env: Record<string, string>): ServiceChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A benchmark or test that dies without stopping it must not leave it running.
  killOnExit(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

function spawnService(name: ServiceName, env: Record<string, string>, p: number): RunningService {
  const child = spawnServiceChild(`services/${name}/src/main.ts`, {
    ...env,
    [PORT_VAR[name]]: String(p),
  });
  return { name, port: p, ...child };
}

/** The child exited because another process held its port. */
function portTaken(svc: { proc: ChildProcess; output: () => string }): boolean {
  return svc.proc.exitCode !== null && /EADDRINUSE/.test(svc.output());
}

/**
 * Whether the process answering /healthz on `port` is `proc` (the body's
 * `pid`): a 200 from another suite's process that took the port first is
 * not this child being healthy.
 */
export async function answersHealth(
  proc: ChildProcess,
  port: number,
  statuses: readonly number[] = [200],
): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    const body = (await res.json().catch(() => ({}))) as { pid?: number };
    return statuses.includes(res.status) && body.pid === proc.pid;
  } catch {
    return false; // not listening yet
  }
}

/**
 * Start services at once, in the order given; when one fails, the others
 * are stopped before the error is thrown (no process outlives the test).
 */
export async function startServices(
  specs: readonly { name: ServiceName; env: Record<string, string>; port?: number }[],
): Promise<RunningService[]> {
  const settled = await Promise.allSettled(specs.map((s) => startService(s.name, s.env, s.port)));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}

/**
 * 90 s: on a loaded 2-core machine a service (tsx compiling and loading its
 * modules) has taken over 30 s, more so when several start at once.
 */
async function waitHealthy(svc: RunningService, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (svc.proc.exitCode !== null) throw new Error(`${svc.name} exited early:\n${svc.output()}`);
    if (await answersHealth(svc.proc, svc.port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${svc.name} not healthy after ${timeoutMs} ms:\n${svc.output()}`);
}

/** Poll until `check` returns a value (not undefined), or fail after timeoutMs. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  /** What is awaited; a function is asked at the timeout (to name the last thing seen). */
  what: string | (() => string) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const named = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${named}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Pipeline {
  gateway: RunningService;
  alerter: RunningService;
  scorer: RunningService;
  collector: RunningService;
  /** Every service, in start order. */
  all: RunningService[];
  /** The environment they run with (to restart one with startService). */
  env: Record<string, string>;
  /** POST /v1/samples on the collector; a string body is sent as is. */
  post: (body: unknown) => Promise<Response>;
  /** SIGTERM every service; resolves with their exit codes. */
  stop: () => Promise<(number | null)[]>;
}

/**
 * The four services against one Redis and key prefix. Samples come only
 * from the collector, so it starts last: the gateway's stream positions and
 * the alerter's and scorer's groups exist before any sample. The others
 * start together (a service takes seconds to start on a loaded machine).
 */
export async function startPipeline(
  redisUrl: string,
  prefix: string,
  extraEnv: Record<string, string> = {},
): Promise<Pipeline> {
  const env = {
    REDIS_URL: redisUrl,
    QUANTMON_PREFIX: prefix,
    BULLMQ_PREFIX: `${prefix}-bull`,
    SYSTEM_INTERVAL_MS: '500',
    ...extraEnv,
  };
  const first = await startServices(
    (['gateway', 'alerter', 'scorer'] as const).map((name) => ({ name, env })),
  );
  const collector = await startService('collector', env).catch(async (err: unknown) => {
    await Promise.all(first.map((s) => s.stop()));
    throw err;
  });
  const [gateway, alerter, scorer] = first as [RunningService, RunningService, RunningService];
  const all = [gateway, alerter, scorer, collector];
  return {
    gateway,
    alerter,
    scorer,
    collector,
    all,
    env,
    post: (body) =>
      fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    stop: () => Promise.all(all.map((s) => s.stop())),
  };
}
