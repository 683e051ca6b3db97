import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';
import { TestWsClient } from '../helpers/ws-client.js';

/** GATEWAY_MAX_TOPICS bounds what one connection can make the gateway hold. */
describe('gateway topics per connection', () => {
  let redisServer: TestRedis;
  let gateway: RunningService;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: uniquePrefix('gwcap'),
      GATEWAY_MAX_TOPICS: '3',
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await redisServer?.dispose();
  });

  it('refuses a subscribe that would pass the cap, naming it, and keeps the connection', async () => {
    const c = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`);
    c.send({ type: 'subscribe', topics: ['strategy:a', 'strategy:b'] });
    await c.waitFor((f) => f.type === 'subscribed');
    // Two new topics (one repeated) would make four.
    c.send({ type: 'subscribe', topics: ['strategy:a', 'strategy:c', 'strategy:d'] });
    const err = await c.waitFor((f) => f.type === 'error');
    expect(err).toMatchObject({
      message: expect.stringMatching(/more than 3 topics.*GATEWAY_MAX_TOPICS/),
    });
    // A topic already held plus one new one fits: three in all.
    c.send({ type: 'subscribe', topics: ['strategy:b', 'strategy:c'] });
    await c.waitFor((f) => f.type === 'subscribed' && f.topics.includes('strategy:c'));
    c.send({ type: 'unsubscribe', topics: ['strategy:a'] });
    await c.waitFor((f) => f.type === 'unsubscribed');
    c.send({ type: 'subscribe', topics: ['strategy:d'] });
    await c.waitFor((f) => f.type === 'subscribed' && f.topics.includes('strategy:d'));
    c.close();
  });
});
