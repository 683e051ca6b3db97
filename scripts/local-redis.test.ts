import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnRedisServer, type LocalRedis } from './local-redis.js';

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

  it('runs npm start’s persistence: AOF every second, rewritten at 1 GB at the least', async () => {
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
      expect(await get('save')).toBe('');
      expect(await get('maxmemory-policy')).toBe('noeviction');
    } finally {
      redis.disconnect();
    }
  });
});
