import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf } from '../helpers/child-processes.js';
import { npmStartEnv, spawnNpmStart, waitForBanner, type NpmStart } from '../helpers/npm-start.js';
import { freePort, uniquePrefix } from '../helpers/redis-server.js';
import { eventually, ROOT } from '../helpers/services.js';
import { running } from '../helpers/pid-alive.js';

/** Every running process whose working folder is `dir` (Redis works in its data folder). */
function workingIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`) === dir && running(pid);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    });
}

async function post(collectorPort: number, samples: unknown[]): Promise<Response | undefined> {
  return fetch(`http://127.0.0.1:${collectorPort}/v1/samples`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(samples),
  }).catch(() => undefined);
}

async function scoredCount(gatewayPort: number, strategy: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/api/summary`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const summary = (await res.json()) as { strategies: { strategy: string; count: number }[] };
  return summary.strategies.find((s) => s.strategy === strategy)?.count;
}

/**
 * `npm start` SIGKILLed (no chance to stop its children): its services and
 * its Redis used to run on, orphaned, and the next npm start put a second
 * redis-server on the same data folder. Now the services stop by
 * themselves, and the next npm start stops the leftover Redis before
 * starting its own on the same port and data.
 */
describe('npm start after an npm start that was SIGKILLed', () => {
  const runs: NpmStart[] = [];
  let gatewayPort = 0;
  const ports = { collector: 0, scorer: 0, alerter: 0, supervisor: 0, redis: 0 };
  const seen: number[] = [];
  let dir = '';

  beforeAll(async () => {
    gatewayPort = await freePort();
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    dir = join(ROOT, '.quantmon', `redis-${gatewayPort}`);
  });

  afterAll(() => {
    // Each run's group (npm start and its services), then its Redis (a session of its own).
    for (const r of runs) {
      try {
        process.kill(-r.proc.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const pid of [...seen, ...(dir ? workingIn(dir) : [])].filter(running)) {
      process.kill(pid, 'SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the services gone and stops the leftover Redis before starting its own', async () => {
    const env = npmStartEnv(uniquePrefix('leftover'), { gateway: gatewayPort, ...ports });
    const first = spawnNpmStart(env);
    runs.push(first);
    await waitForBanner(first);
    const url = /redis:\s+(redis:\/\/127\.0\.0\.1:\d+)/.exec(first.output())?.[1];
    expect(url, `the banner's redis line:\n${first.output()}`).toBeDefined();
    const children = childrenOf(first.proc.pid!);
    const services = children.filter((c) => /services\/\w+\/src\/main\.ts/.test(c.args));
    const redisPid = children.find((c) => /^\S*redis-server/.test(c.args))?.pid;
    expect(services.length, JSON.stringify(children)).toBe(4);
    expect(redisPid).toBeDefined();
    seen.push(redisPid!, ...services.map((s) => s.pid));
    expect(readFileSync(join(dir, 'redis-server.pid'), 'utf8').trim()).toBe(String(redisPid));

    const now = Date.now();
    const batch = Array.from({ length: 5 }, (_, i) => ({
      strategy: 'before-the-kill',
      ts: now - 1000 + i,
      return: 0.001 * i,
      id: `btk-${i}`,
    }));
    expect((await post(ports.collector, batch))?.status).toBe(202);
    await eventually(
      async () => ((await scoredCount(gatewayPort, 'before-the-kill')) === 5 ? true : undefined),
      60_000,
      'the batch scored',
    );

    // Killed without a chance to stop anything: its process alone, not its group.
    process.kill(first.proc.pid!, 'SIGKILL');
    await eventually(
      () => (services.every((s) => !running(s.pid)) ? true : undefined),
      30_000,
      () =>
        `the services stopping by themselves: ${JSON.stringify(services.filter((s) => running(s.pid)))}`,
    );
    expect(running(redisPid!)).toBe(true); // what the next npm start must deal with

    const second = spawnNpmStart(env);
    runs.push(second);
    await waitForBanner(second);
    expect(second.output()).toContain(
      `stopped redis-server (pid ${redisPid}) that an earlier npm start left running on ${dir}`,
    );
    expect(running(redisPid!)).toBe(false);
    // The same port and data, one server on them.
    expect(/redis:\s+(redis:\/\/127\.0\.0\.1:\d+)/.exec(second.output())?.[1]).toBe(url);
    const ours = workingIn(dir);
    expect(ours).toHaveLength(1);
    seen.push(...ours);
    expect(await scoredCount(gatewayPort, 'before-the-kill')).toBe(5);
    // The marks came back with the data: the same batch again is all duplicates.
    const again = await post(ports.collector, batch);
    expect(await again?.json()).toMatchObject({ accepted: 0, duplicates: 5 });

    const exited = new Promise<number | null>((r) => second.proc.once('exit', (code) => r(code)));
    process.kill(-second.proc.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    await eventually(() => (workingIn(dir).length === 0 ? true : undefined), 20_000, 'Redis gone');
    expect(existsSync(join(dir, 'redis-server.pid'))).toBe(false);
  }, 240_000);
});
