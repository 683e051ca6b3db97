import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeEntry,
  followerProbe,
  groupProbe,
  keysFor,
  monitorLoops,
  partitionOf,
} from '@quantmon/shared';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService } from '../helpers/services.js';

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

  it('a real scorer whose writes hang answers /healthz 503 naming the loop, then recovers', async (ctx) => {
    // CLIENT PAUSE stops every client of the server: only on a Redis of this file's own.
    if (server.kind === 'external') ctx.skip('REDIS_URL is shared: not pausing it');
    const prefix = uniquePrefix('stuck');
    const scorer = await startService('scorer', {
      REDIS_URL: server.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '2',
      LOOP_STUCK_MS: '1000',
    });
    type Health = { status: string; checks: Record<string, boolean>; partitions: number[] };
    const health = async (): Promise<{ code: number; body: Health }> => {
      const res = await fetch(`http://127.0.0.1:${scorer.port}/healthz`);
      return { code: res.status, body: (await res.json()) as Health };
    };
    try {
      await eventually(
        async () => ((await health()).body.partitions.length === 2 ? true : undefined),
        30_000,
        'the scorer owning both partitions',
      );
      const part = partitionOf('stuck-a', 2);
      const sample = { strategy: 'stuck-a', ts: Date.now(), return: 0.01, receivedAt: Date.now() };
      // The sample, then at once a pause of every write (reads go on): the
      // scorer reads the sample but cannot commit its score and position.
      await redis
        .pipeline()
        .xadd(keysFor(prefix).partition(part).strategySamples, '*', ...encodeEntry(sample))
        .call('CLIENT', 'PAUSE', '15000', 'WRITE')
        .exec();
      const stuck = await eventually(
        async () => {
          const h = await health();
          return h.code === 503 ? h.body : undefined;
        },
        14_000,
        'a 503 while writes are paused',
      );
      expect(stuck.checks).toMatchObject({ redis: true, [`loop:samples-p${part}`]: false });
      // Writes resume when the pause ends: the loop commits and /healthz is 200 again.
      await eventually(
        async () => ((await health()).code === 200 ? true : undefined),
        40_000,
        '200 again',
      );
    } finally {
      await redis.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      await scorer.stop();
    }
  }, 90_000);
});
