import { keysFor, type ServerFrame } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreUpdate } from '../helpers/gateway-fixtures.js';
import { PartitionedFeed } from '../helpers/gateway-partitions.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import { TestWsClient } from '../helpers/ws-client.js';

const tagged = (strategy: string, i: number, desk: string) => ({
  ...scoreUpdate(strategy, i),
  tags: { desk, manager: 'kim' },
});

/**
 * Subscribing to a desk: a `tag:desk=rates` topic gets a snapshot of the
 * desk's strategies and then their live score frames, through the real
 * gateway process, with the entries written over four partitions.
 */
describe('gateway tag topics', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let feed: PartitionedFeed;
  let gateway: RunningService;
  const prefix = uniquePrefix('gwtag');
  const keys = keysFor(prefix);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    feed = new PartitionedFeed(redis, keys, 4);
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '4',
    });
  });

  afterAll(async () => {
    const code = await gateway?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    expect(code).toBe(0);
  });

  it('sends a desk subscriber the desk strategies only: snapshot, then live frames, once each', async () => {
    await feed.score(tagged('ust-10y', 1, 'rates'));
    await feed.score(tagged('eurusd', 1, 'fx'));
    // Wait until the gateway's state holds both (its strategy:* snapshot lists them).
    await eventually(
      async () => {
        const probe = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`);
        probe.send({ type: 'subscribe', topics: ['strategy:*'] });
        const f = await probe.waitFor((x) => x.type === 'snapshot');
        probe.close();
        return f.type === 'snapshot' && f.scores?.length === 2 ? true : undefined;
      },
      10_000,
      'both strategies in the gateway state',
    );

    const c = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`);
    c.send({ type: 'subscribe', topics: ['tag:desk=rates', 'strategy:ust-10y'] });
    const snap = await c.waitFor(
      (f): f is Extract<ServerFrame, { type: 'snapshot' }> =>
        f.type === 'snapshot' && f.topic === 'tag:desk=rates',
    );
    expect(snap.scores?.map((s) => s.strategy)).toEqual(['ust-10y']);
    await feed.score(tagged('eurusd', 2, 'fx'));
    await feed.score(tagged('bund', 1, 'rates'));
    await feed.score(tagged('ust-10y', 2, 'rates'));
    await feed.score(scoreUpdate('untagged', 1));
    await c.waitFor((f) => f.type === 'score' && f.data.id === 'ust-10y-2');
    await c.waitFor((f) => f.type === 'score' && f.data.id === 'bund-1');
    // The last write's frame has arrived: anything else would have too (same connection, same tick or earlier).
    await feed.score(tagged('last', 1, 'rates'));
    await c.waitFor((f) => f.type === 'score' && f.data.id === 'last-1');
    const ids = c.frames.flatMap((f) => (f.type === 'score' ? [f.data.id] : []));
    expect(ids.sort()).toEqual(['bund-1', 'last-1', 'ust-10y-2']);
    c.close();
  });

  it('refuses a malformed tag topic with an error frame', async () => {
    const c = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`);
    c.send({ type: 'subscribe', topics: ['tag:Desk=rates'] });
    const e = await c.waitFor((f) => f.type === 'error');
    expect(e).toMatchObject({ type: 'error' });
    expect((e as { message: string }).message).toContain('invalid message');
    c.close();
  });
});
