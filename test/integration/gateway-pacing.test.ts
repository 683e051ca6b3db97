import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate, systemSample } from '../helpers/gateway-fixtures.js';
import { PartitionedFeed } from '../helpers/gateway-partitions.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';
import { isScore, TestWsClient } from '../helpers/ws-client.js';

/** What a client got besides subscribe's replies, as `score:<id>`, `system:<host>`, `alert:<incident>` or the type. */
function live(c: TestWsClient): string[] {
  const replies = new Set(['hello', 'subscribed', 'snapshot']);
  return c.frames
    .filter((f) => !replies.has(f.type))
    .map((f) => {
      if (f.type === 'score') return `score:${f.data.id}`;
      if (f.type === 'system') return `system:${f.data.host}`;
      if (f.type === 'alert') return `alert:${f.data.incidentId}`;
      return f.type;
    });
}

/**
 * Subscribe's `intervalMs` on a real gateway over a real Redis: a paced
 * connection gets the first metric frame after a quiet spell at once, then
 * at most one delivery per interval holding the latest frame of each
 * strategy and host; an alert or a reply takes what waits with it, in
 * order; `intervalMs: 0` sends what waits; another connection still gets
 * every frame as it comes.
 */
describe('gateway: paced connections (subscribe intervalMs)', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let feed: PartitionedFeed;
  let gateway: RunningService;
  const prefix = uniquePrefix('gwp');
  const ws = (): string => `ws://127.0.0.1:${gateway.port}/ws`;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    feed = new PartitionedFeed(redis, keysFor(prefix), 2);
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '2',
    });
  });

  afterAll(async () => {
    const code = await gateway?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    expect(code).toBe(0);
  });

  const subscribed = async (intervalMs?: number): Promise<TestWsClient> => {
    const c = await TestWsClient.connect(ws());
    c.send({
      type: 'subscribe',
      topics: ['strategy:*', 'system', 'alerts'],
      ...(intervalMs === undefined ? {} : { intervalMs }),
    });
    await c.waitFor((f) => f.type === 'snapshot');
    return c;
  };

  it('holds the latest frame per strategy and host until an alert takes them, in order', async () => {
    // Longer than the test: only the first frame and the alert can send anything.
    const paced = await subscribed(30_000);
    const every = await subscribed();

    await feed.score(scoreUpdate('pa', 1));
    await paced.waitFor(isScore('pa-1'));

    for (const u of [scoreUpdate('pa', 2), scoreUpdate('pb', 1), scoreUpdate('pa', 3)]) {
      await feed.score(u);
    }
    const [host1, host2] = [systemSample('ph', 1), systemSample('ph', 2)];
    await feed.system(host1);
    await feed.score(scoreUpdate('pb', 2));
    await feed.system(host2);
    // The other connection got every frame: the gateway has read them all,
    // and handed the paced connection its copies in the same step.
    await every.waitFor(isScore('pa-3'));
    await every.waitFor(isScore('pb-2'));
    await every.waitFor((f) => f.type === 'system' && f.data.cpu === host2.cpu);
    // Every update, each strategy's in order (partitions have no order between them).
    const scores = live(every).filter((x) => x.startsWith('score:'));
    expect(scores.filter((x) => x.startsWith('score:pa-'))).toEqual([
      'score:pa-1',
      'score:pa-2',
      'score:pa-3',
    ]);
    expect(scores.filter((x) => x.startsWith('score:pb-'))).toEqual(['score:pb-1', 'score:pb-2']);
    expect(live(paced)).toEqual(['score:pa-1']);

    await feed.alert(alertEvent(1, { subject: 'strategy/pa', incidentId: 'inc-pace' }));
    await paced.waitFor((f) => f.type === 'alert');
    const got = live(paced);
    // The held frames (one per strategy and host, the latest), then the alert.
    expect(got[0]).toBe('score:pa-1');
    expect(got.slice(1, 4).sort()).toEqual(['score:pa-3', 'score:pb-2', 'system:ph']);
    expect(got.slice(4)).toEqual(['alert:inc-pace']);
    const hosts = paced.frames.filter((f) => f.type === 'system');
    expect(hosts.map((f) => f.type === 'system' && f.data)).toEqual([host2]);
    for (const c of [paced, every]) c.close();
  });

  it('delivers at most once per interval, the latest of each strategy', async () => {
    const paced = await subscribed(1_500);
    const n = 12;
    for (let i = 1; i <= n; i++) await feed.score(scoreUpdate('pc', i));
    const last = await paced.waitFor(isScore(`pc-${n}`), 10_000);
    expect(last.data).toEqual(expect.objectContaining({ strategy: 'pc', id: `pc-${n}` }));
    const got = live(paced);
    // The first at once (pc-1, or a later one when the gateway read several
    // in one step), the rest in one delivery 1.5 s later (two on a machine so
    // slow that the writes themselves took longer than the interval); each
    // newer than the one before.
    expect(got.length).toBeLessThanOrEqual(3);
    const seq = got.map((x) => Number(/^score:pc-(\d+)$/.exec(x)?.[1]));
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(new Set(seq).size).toBe(seq.length);
    expect(seq.at(-1)).toBe(n);
    expect(paced.frames.filter((f) => f.type === 'score').length).toBeLessThan(n);
    paced.close();
  });

  it('sends what waits when a reply goes out or pacing is turned off', async () => {
    const paced = await subscribed(30_000);
    await feed.score(scoreUpdate('pd', 1));
    await paced.waitFor(isScore('pd-1'));
    await feed.score(scoreUpdate('pd', 2));
    await feed.score(scoreUpdate('pd', 3));

    // A pong is a reply: what waited goes before it.
    const every = await subscribed();
    await feed.score(scoreUpdate('pd', 4));
    await every.waitFor(isScore('pd-4'));
    paced.send({ type: 'ping' });
    await paced.waitFor((f) => f.type === 'pong');
    expect(live(paced)).toEqual(['score:pd-1', 'score:pd-4', 'pong']);

    // intervalMs 0: every frame as it comes from then on, what waited first.
    await feed.score(scoreUpdate('pd', 5));
    await every.waitFor(isScore('pd-5'));
    paced.send({ type: 'subscribe', topics: ['strategy:pd'], intervalMs: 0 });
    await paced.waitFor((f) => f.type === 'subscribed' && f.topics[0] === 'strategy:pd');
    await feed.score(scoreUpdate('pd', 6));
    await paced.waitFor(isScore('pd-6'));
    const after = live(paced).filter((x) => x.startsWith('score:'));
    expect(after).toEqual(['score:pd-1', 'score:pd-4', 'score:pd-5', 'score:pd-6']);
    for (const c of [paced, every]) c.close();
  });

  it('refuses an interval that is not a whole number of ms up to a minute, by name', async () => {
    const c = await TestWsClient.connect(ws());
    for (const intervalMs of [-1, 1.5, 60_001, '100']) {
      c.send({ type: 'subscribe', topics: ['system'], intervalMs });
    }
    await c.waitFor(() => c.frames.filter((f) => f.type === 'error').length === 4);
    const errors = c.frames.filter((f) => f.type === 'error');
    for (const e of errors) expect(e.type === 'error' && e.message).toMatch(/intervalMs/);
    expect(c.frames.some((f) => f.type === 'subscribed')).toBe(false);
    c.close();
  });
});
