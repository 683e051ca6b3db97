import { createRedis, keysFor } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';

/** STREAM_MAXLEN_SAMPLES on a real collector: the samples stream stays near the cap set. */
describe('STREAM_MAXLEN_SAMPLES', () => {
  let server: TestRedis;
  let redis: Redis;
  let collector: RunningService;
  const prefix = uniquePrefix('maxlen');

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'blocking', 'maxlen-test');
    collector = await startService('collector', {
      REDIS_URL: server.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '1',
      STREAM_MAXLEN_SAMPLES: '2000',
      INGEST_MAX_LAG: '1000',
      SYSTEM_INTERVAL_MS: '60000',
    });
  });
  afterAll(async () => {
    expect(await collector?.stop()).toBe(0);
    redis?.disconnect();
    await server?.dispose();
  });

  it('caps each partition near the configured length', async () => {
    const stream = keysFor(prefix).partition(0).strategySamples;
    for (let b = 0; b < 10; b++) {
      // No scorer reads: a group made at the stream's end keeps the lag gate at 0.
      const body = Array.from({ length: 900 }, (_, i) => ({
        strategy: `s${i % 7}`,
        ts: Date.UTC(2026, 0, 1) + (b * 900 + i) * 1000,
        return: 0.001,
      }));
      const res = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(202);
      if (b === 0) await redis.xgroup('CREATE', stream, 'scorer', '$');
      else await redis.xgroup('SETID', stream, 'scorer', '$');
    }
    const len = await redis.xlen(stream);
    // MAXLEN ~ trims whole nodes of 100 entries: between the cap and a node above it.
    expect(len).toBeGreaterThanOrEqual(2000);
    expect(len).toBeLessThanOrEqual(2100);
  });
});
