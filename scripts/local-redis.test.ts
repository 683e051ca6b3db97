import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnRedisServer, type LocalRedis } from './local-redis.js';
import { alive } from '../test/helpers/pid-alive.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The redis-server that `npm start` and the benchmarks run: what it was
 * started with is what the server reports, so a setting Redis does not
 * accept (a typo, a unit it does not know) fails here, not in production.
 */
describe('spawnRedisServer', () => {
  const servers: LocalRedis[] = [];
  afterAll(async () => {
    for (const s of servers) await s.dispose();
  });

  it('runs npm start’s persistence: AOF every second, rewritten at 1 GB at the least and at 200 % growth', async () => {
    const server = await spawnRedisServer({ persistence: 'aof-everysec' });
    servers.push(server);
    const redis = new Redis(server.url, { lazyConnect: true });
    try {
      await redis.connect();
      const get = async (name: string): Promise<string | undefined> =>
        ((await redis.config('GET', name)) as string[])[1];
      expect(await get('appendonly')).toBe('yes');
      expect(await get('appendfsync')).toBe('everysec');
      expect(await get('auto-aof-rewrite-min-size')).toBe(String(1024 ** 3));
      expect(await get('auto-aof-rewrite-percentage')).toBe('200');
      expect(await get('save')).toBe('');
      expect(await get('maxmemory-policy')).toBe('noeviction');
    } finally {
      redis.disconnect();
    }
  });

  it('stops the server and removes its folder when its process dies without dispose()', async () => {
    // A benchmark whose stdout was closed (`| head`) dies on its next write: here, an uncaught error.
    const script = `
      const { spawnRedisServer } = await import(${JSON.stringify(`${here}local-redis.ts`)});
      const s = await spawnRedisServer({ persistence: 'aof-everysec' });
      console.log(JSON.stringify({ pid: s.proc().pid, dir: s.dir }));
      setTimeout(() => { throw new Error('dies before dispose()'); }, 10);
    `;
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((res) => {
      const c = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: here },
        (err, out) => res({ stdout: out, code: c.exitCode ?? (err ? 1 : 0) }),
      );
    });
    expect(code, 'the child died of its error').not.toBe(0);
    const { pid, dir } = JSON.parse(stdout.trim()) as { pid: number; dir: string };
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid), `redis-server ${pid} still running`).toBe(false);
    expect(existsSync(dir), `${dir} still there`).toBe(false);
  });
});
