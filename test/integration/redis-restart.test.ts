import {
  createRedis,
  GROUPS,
  keysFor,
  ScoreUpdate,
  StrategySample,
  SystemSample,
  type ServerFrame,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { coverageProblems } from '../helpers/score-coverage.js';
import { eventually, startPipeline, type Pipeline } from '../helpers/services.js';
import { readEntries, sleep, until, waitDrained } from '../helpers/streams.js';
import { TestWsClient } from '../helpers/ws-client.js';

/**
 * The four services running while their Redis is stopped and started again
 * (AOF, appendfsync always: nothing acknowledged is lost). The collector
 * answers 503 while Redis is down; once it is back every accepted sample is
 * scored exactly once and a WebSocket client connected throughout keeps
 * receiving frames.
 */
const STRATEGY = 'outage';
type ScoreFrame = Extract<ServerFrame, { type: 'score' }>;

describe('pipeline across a Redis restart', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  const prefix = uniquePrefix('redis-restart');
  // One partition: this suite checks the stream order of one lane.
  const keys = keysFor(prefix).partition(0);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = createRedis(redisServer.url, 'blocking', 'redis-restart-test');
    pipeline = await startPipeline(redisServer.url, prefix, { PARTITIONS: '1' });
  });
  afterAll(async () => {
    const codes = await pipeline.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    expect(codes).toEqual([0, 0, 0, 0]);
  });

  const post = (body: unknown): Promise<Response> => pipeline.post(body);
  const batch = (tag: string, n: number, day0: number) =>
    Array.from({ length: n }, (_, i) => ({
      strategy: STRATEGY,
      ts: Date.parse('2026-04-01T00:00:00Z') + (day0 + i) * 86_400_000,
      return: i % 3 === 0 ? -0.004 : 0.003,
      id: `${tag}-${i}`,
    }));
  const scoreFrameIds = (client: TestWsClient): string[] =>
    client.frames
      .filter((f): f is ScoreFrame => f.type === 'score' && f.data.strategy === STRATEGY)
      .map((f) => f.data.id);

  it('answers 503 while Redis is down, then scores every accepted sample exactly once and resumes the WebSocket feed', async () => {
    if (redisServer.kind === 'external') return; // an external Redis cannot be restarted
    const client = await TestWsClient.connect(`ws://127.0.0.1:${pipeline.gateway.port}/ws`);
    client.send({ type: 'subscribe', topics: [`strategy:${STRATEGY}`] });
    await client.waitFor((f) => f.type === 'snapshot');

    const before = batch('before', 25, 0);
    expect((await post(before)).status).toBe(202);
    await client.waitFor((f) => f.type === 'score' && f.data.id === 'before-24', 20_000);

    await redisServer.stop();
    const refused = await post(batch('during', 5, 25));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: string }).error).toMatch(/storage unavailable/);
    await sleep(1500);
    const restartedAt = Date.now();
    await redisServer.start();

    // The ingest connection reconnects with backoff: a 503 meanwhile writes nothing, so retry.
    const after = batch('after', 25, 30);
    await eventually(
      async () => {
        const res = await post(after);
        if (res.status === 202) return true;
        expect(res.status).toBe(503);
        return undefined;
      },
      30_000,
      'the collector accepting samples again',
    );
    await client.waitFor((f) => f.type === 'score' && f.data.id === 'after-24', 30_000);
    await waitDrained(redis, keys.strategySamples, GROUPS.scorer);
    await waitDrained(redis, keys.scores, GROUPS.alerter);

    const accepted = [...before, ...after].map((s) => s.id);
    const samples = (await readEntries(redis, keys.strategySamples, StrategySample)).filter(
      (s) => s.value.strategy === STRATEGY,
    );
    expect(samples.map((s) => s.value.id)).toEqual(accepted);
    const updates = (await readEntries(redis, keys.scores, ScoreUpdate)).filter(
      (u) => u.value.strategy === STRATEGY,
    );
    // Every accepted sample in exactly one update (a read batch conflates a strategy's samples).
    expect(coverageProblems(samples, updates)).toEqual([]);
    expect(updates.at(-1)?.value.id).toBe(accepted.at(-1));
    expect(updates.at(-1)?.value.count).toBe(accepted.length);

    // The client connected before the outage kept getting frames: in order, none twice, up to
    // the latest sample (the contract lets the gateway conflate metric updates to the latest).
    const seen = scoreFrameIds(client);
    const positions = seen.map((id) => accepted.indexOf(id));
    expect(positions).not.toContain(-1);
    expect(positions).toEqual([...new Set(positions)].sort((x, y) => x - y));
    expect(seen.at(-1)).toBe('after-24');
    client.close();

    // The collector's host sampler writes again after the restart.
    await until(
      async () =>
        (await readEntries(redis, keys.systemSamples, SystemSample)).some(
          (s) => s.value.ts > restartedAt,
        ),
      'a host sample after the restart',
    );
  });
});
