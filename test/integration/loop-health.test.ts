import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followerProbe, groupProbe, monitorLoops } from '@quantmon/shared';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually } from '../helpers/services.js';

/**
 * The loop probes against a real Redis: a group whose position stops while
 * entries wait past it fails the health check within the threshold, and
 * passes again once it moves; an idle one never fails.
 */
describe('loop health probes', () => {
  let server: TestRedis;
  let redis: Redis;
  const abort = new AbortController();

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    abort.abort();
    redis?.disconnect();
    await server?.dispose();
  });

  it('fails a consumer group that stops advancing with entries waiting, and recovers', async () => {
    const stream = `${uniquePrefix('loops')}:s`;
    await redis.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
    let position = '0-0';
    const registry = new Registry();
    const loops = monitorLoops({
      registry,
      stuckAfterMs: 600,
      intervalMs: 100,
      signal: abort.signal,
      log: pino({ level: 'silent' }),
      base: () => ({ redis: redis.status === 'ready' }),
      probes: () => [
        groupProbe(redis, 'group', stream, 'g'),
        followerProbe(redis, 'follower', stream, () => position),
      ],
    });
    // Idle: nothing past either position, for longer than the threshold.
    await new Promise((r) => setTimeout(r, 900));
    expect(loops.health()).toEqual({ redis: true, 'loop:group': true, 'loop:follower': true });

    const id = (await redis.xadd(stream, '*', 'f', 'v'))!;
    const stuck = await eventually(
      () => {
        const h = loops.health();
        return h['loop:group'] === false && h['loop:follower'] === false ? h : undefined;
      },
      10_000,
      'both loops reported stuck',
    );
    expect(stuck['redis']).toBe(true);
    expect(loops.report()['group']).toMatchObject({ ok: false, behind: true });
    expect(await registry.metrics()).toMatch(/quantmon_health_check\{check="loop:group"\} 0/);

    await redis.xgroup('SETID', stream, 'g', id);
    position = id;
    await eventually(
      () => {
        const h = loops.health();
        return h['loop:group'] && h['loop:follower'] ? h : undefined;
      },
      10_000,
      'both loops healthy again',
    );
  });
});
