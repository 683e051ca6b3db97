import { createRedis, EMERGENCY_QUEUE } from '@quantmon/shared';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { runScaleOut, type Topology } from './scale-out-scenario.js';

describe('scale-out on a single Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  const topology = (): Topology => {
    const bull = uniquePrefix('bull');
    return {
      env: { REDIS_URL: server.url, BULLMQ_PREFIX: bull },
      redis,
      queue: () => new Queue(EMERGENCY_QUEUE, { connection: redis, prefix: bull }),
    };
  };

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'blocking', 'scale-out-test');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  it('two scorers and two alerters with identical settings: every sample in exactly one score update, batch-equal metrics, one job per incident', async () => {
    await runScaleOut(topology(), { scorers: 2, alerters: 2, faults: false });
  }, 180_000);

  it('three scorers and alerters, one of each SIGKILLed under load and a scorer joining: partitions move within 10 s, nothing lost or doubled', async () => {
    const r = await runScaleOut(topology(), { scorers: 3, alerters: 3, faults: true });
    expect(r.takeoverMs.scorer).toBeLessThan(10_000);
    console.info(
      `takeover: scorer ${r.takeoverMs.scorer} ms, alerter ${r.takeoverMs.alerter} ms; ` +
        `longest pause of a partition's scoring ${r.maxScoringGapMs} ms`,
    );
  }, 180_000);

  it('a scorer paused (SIGSTOP) past its lease and resumed cannot write what it computed: nothing doubled', async () => {
    await runScaleOut(topology(), { scorers: 2, alerters: 1, faults: false, pause: true });
  }, 180_000);
});
