import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../packages/shared/src/keys.js';
import { childrenOf } from '../helpers/child-processes.js';
import { npmStartEnv, spawnNpmStart, waitForBanner, type NpmStart } from '../helpers/npm-start.js';
import { alive } from '../helpers/pid-alive.js';
import { freePort, uniquePrefix } from '../helpers/redis-server.js';
import { eventually, ROOT } from '../helpers/services.js';

/** Open and close `n` connections: at loglevel verbose, Redis logs two lines for each. */
async function churn(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    c.on('error', () => undefined); // reset when the test gives up on a blocked Redis
    await c.connect();
    await c.ping();
    c.disconnect();
  }
}

/** The redis-server children of npm start (`pid`). */
function ownRedis(pid: number): number[] {
  return childrenOf(pid)
    .filter((c) => /^\S*redis-server/.test(c.args))
    .map((c) => c.pid);
}

/** PING, or undefined when no answer comes within `ms`. */
async function pingWithin(redis: Redis, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([redis.ping(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `npm start` with no REDIS_URL runs a redis-server of its own: its log is
 * read (a pipe nobody reads fills, and Redis then blocks on its next log
 * line), and a SIGKILL of it is a restart on the same port and data, as
 * for a service, with the services carrying on.
 */
describe('npm start: its own redis-server', () => {
  let start: ChildProcess | undefined;
  let npm: NpmStart | undefined;
  const out = (): string => npm?.output() ?? '';
  let gatewayPort = 0;
  const ports = { collector: 0, scorer: 0, alerter: 0, supervisor: 0, redis: 0 };

  beforeAll(async () => {
    gatewayPort = await freePort();
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  });
  const redisPids: number[] = [];

  afterAll(async () => {
    // The redis-servers seen, and whichever npm start runs now (a restarted
    // one when the test failed after the restart): their own session
    // (setsid), so the kill of npm start's group below does not reach them.
    if (start?.pid) redisPids.push(...ownRedis(start.pid));
    for (const pid of redisPids.filter(alive)) process.kill(pid, 'SIGKILL');
    if (start?.pid && start.exitCode === null) {
      try {
        process.kill(-start.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Its data folder, named after the gateway's port (scripts/start.ts).
    rmSync(join(ROOT, '.quantmon', `redis-${gatewayPort}`), { recursive: true, force: true });
  });

  it('reads its log, and restarts it after a SIGKILL with the services carrying on', async () => {
    const prefix = uniquePrefix('ownredis');
    const env = npmStartEnv(prefix, { gateway: gatewayPort, ...ports });
    npm = spawnNpmStart(env);
    start = npm.proc;
    await waitForBanner(npm);
    const url = /redis:\s+(redis:\/\/127\.0\.0\.1:\d+)/.exec(out())?.[1];
    // Its own session (setsid): a kill of npm start's group does not reach it.
    redisPids.push(...ownRedis(start.pid!));
    expect(url, `the banner's redis line:\n${out()}`).toBeDefined();
    const redis = new Redis(url!, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    try {
      // ~2 x 1,500 log lines, several times what a pipe holds unread.
      await redis.config('SET', 'loglevel', 'verbose');
      const churned = churn(url!, 1500).then(() => 'done' as const);
      churned.catch(() => undefined);
      const late = new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 60_000).unref());
      // A Redis blocked on a full log pipe answers nothing: the churn never ends.
      expect(await Promise.race([churned, late])).toBe('done');
      expect(await pingWithin(redis, 5000)).toBe('PONG');
      await redis.config('SET', 'loglevel', 'warning');
      expect(out()).toMatch(/\bredis\s+\d+:M .*Accepted 127\.0\.0\.1/);

      const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await eventually(
        () => (out().includes('redis-server is back on') ? true : undefined),
        30_000,
        () => `npm start restarting its redis-server; it said:\n${out().slice(-3000)}`,
      );
      expect(out()).toMatch(/redis-server: redis killed by SIGKILL; restarting it in \d+ ms/);
      process.stdout.write(`redis-server back ${Date.now() - killedAt} ms after SIGKILL\n`);
      const metrics = await (await fetch(`http://127.0.0.1:${ports.supervisor}/metrics`)).text();
      expect(metrics).toMatch(/quantmon_supervisor_restarts_total\{child="redis"[^}]*\} 1/);
      // Recorded once the restart log's connection was back.
      const field = `${hostname() || 'host'}/redis`;
      const record = await eventually(
        () => redis.hget(keysFor(prefix).supervisorRestarts, field).then((v) => v ?? undefined),
        15_000,
        'the restart recorded in Redis',
      );
      expect(JSON.parse(record)).toMatchObject({ child: 'redis', lastExit: 'killed by SIGKILL' });

      // The services carry on: a batch posted now is scored.
      const now = Date.now();
      const samples = Array.from({ length: 5 }, (_, i) => ({
        strategy: 'after-redis-restart',
        ts: now - 1000 + i,
        return: 0.001 * i,
        id: `arr-${i}`,
      }));
      await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${ports.collector}/v1/samples`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(samples),
          }).catch(() => undefined);
          return res?.status === 202 ? true : undefined;
        },
        30_000,
        'the collector accepting a batch',
      );
      await eventually(
        async () => {
          const summary = (await (
            await fetch(`http://127.0.0.1:${gatewayPort}/api/summary`)
          ).json()) as { strategies: { strategy: string; count: number }[] };
          return summary.strategies.find((s) => s.strategy === 'after-redis-restart')?.count === 5
            ? true
            : undefined;
        },
        60_000,
        'the batch scored',
      );
      const newPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
      expect(newPid).not.toBe(pid);
      redisPids.push(newPid);

      // Ctrl-C stops the restarted one too.
      const exited = new Promise<number | null>((r) => start!.once('exit', (code) => r(code)));
      process.kill(-start.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      await eventually(() => (alive(newPid) ? undefined : true), 20_000, 'redis-server gone');
    } finally {
      redis.disconnect();
    }
  }, 240_000);
});
