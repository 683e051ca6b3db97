import {
  GROUPS,
  StrategySample,
  EMERGENCY_QUEUE,
  EmergencyJobData,
  keysFor,
  partitionOf,
  ScoreUpdate,
  type ServerFrame,
} from '@quantmon/shared';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { coverageProblems } from '../helpers/score-coverage.js';
import { eventually, startPipeline, type Pipeline } from '../helpers/services.js';
import { readPartitions, waitPartitionsDrained } from '../helpers/streams.js';
import { TestWsClient } from '../helpers/ws-client.js';

/**
 * The whole pipeline as separate processes over a real Redis: samples in at
 * the collector, scores and alerts out of the gateway's WebSocket, the
 * emergency job taken by a real BullMQ Worker. Four partitions: each
 * strategy's samples and scores stay in its own partition, and the gateway
 * and alerter read them all.
 */
const P = 4;

describe('pipeline end to end', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let worker: Worker;
  const jobs: Job[] = [];
  const prefix = uniquePrefix('e2e');
  const bullPrefix = `${prefix}-bull`;
  const keys = keysFor(prefix);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    pipeline = await startPipeline(redisServer.url, prefix, { PARTITIONS: String(P) });
    worker = new Worker(
      EMERGENCY_QUEUE,
      async (job) => {
        EmergencyJobData.parse(job.data);
        jobs.push(job);
      },
      {
        connection: new Redis(redisServer.url, { maxRetriesPerRequest: null }),
        prefix: bullPrefix,
      },
    );
  });

  afterAll(async () => {
    await worker?.close();
    const codes = await pipeline.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    // Clean SIGTERM shutdown: every service exits 0.
    expect(codes).toEqual([0, 0, 0, 0]);
  });

  const post = (body: unknown): Promise<Response> => pipeline.post(body);
  /** Entries of one partitioned stream over every partition. */
  const total = async (stream: 'scores' | 'strategySamples'): Promise<number> => {
    let n = 0;
    for (let p = 0; p < P; p++) n += await redis.xlen(keys.partition(p)[stream]);
    return n;
  };

  it('scores posted samples and streams the score frame to a WebSocket client', async () => {
    const client = await TestWsClient.connect(`ws://127.0.0.1:${pipeline.gateway.port}/ws`);
    client.send({ type: 'subscribe', topics: ['strategy:e2e-calm'] });
    await client.waitFor((f) => f.type === 'snapshot');
    const t0 = Date.parse('2026-01-05T00:00:00Z');
    const samples = Array.from({ length: 30 }, (_, i) => ({
      strategy: 'e2e-calm',
      ts: t0 + i * 86_400_000,
      return: i % 2 === 0 ? 0.002 : -0.001,
      id: `calm-${i}`,
    }));
    const res = await post(samples);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 30, duplicates: 0, outOfOrder: 0 });
    const frame = await client.waitFor(
      (f): f is Extract<ServerFrame, { type: 'score' }> =>
        f.type === 'score' && f.data.id === 'calm-29',
    );
    expect(frame.data.strategy).toBe('e2e-calm');
    expect(frame.data.ts).toBe(samples[29]!.ts);
    expect(frame.data.count).toBe(30);
    expect(frame.data.metrics.winRate).toBeCloseTo(0.5, 12);
    expect(frame.pos).toMatch(/^\d+-\d+$/);
    expect(frame.part).toBe(partitionOf('e2e-calm', P));
    // The summary reflects the same update.
    const summary = (await (
      await fetch(`http://127.0.0.1:${pipeline.gateway.port}/api/summary`)
    ).json()) as {
      strategies: { strategy: string; id: string }[];
    };
    expect(summary.strategies.find((s) => s.strategy === 'e2e-calm')?.id).toBe('calm-29');
    client.close();
  });

  it('raises a critical alert frame and a risk-reduction job when VaR crosses 0.15', async () => {
    const client = await TestWsClient.connect(`ws://127.0.0.1:${pipeline.gateway.port}/ws`);
    client.send({ type: 'subscribe', topics: ['alerts'] });
    await client.waitFor((f) => f.type === 'snapshot' && f.topic === 'alerts');
    const t0 = Date.parse('2026-02-02T00:00:00Z');
    // Big swings: the 5 % historical quantile is a loss of ~25 %.
    const samples = Array.from({ length: 30 }, (_, i) => ({
      strategy: 'e2e-risky',
      ts: t0 + i * 86_400_000,
      return: i % 3 === 0 ? -0.25 : 0.12,
    }));
    expect((await post(samples)).status).toBe(202);
    const alert = await client.waitFor(
      (f): f is Extract<ServerFrame, { type: 'alert' }> =>
        f.type === 'alert' &&
        f.data.rule === 'var_exceeded' &&
        f.data.subject === 'strategy/e2e-risky',
    );
    expect(alert.data.level).toBe('critical');
    expect(alert.data.state).toBe('firing');
    expect(alert.data.value).toBeGreaterThan(0.15);
    const job = await eventually(
      () => jobs.find((j) => j.data.alert.incidentId === alert.data.incidentId),
      10_000,
      'risk-reduction job',
    );
    expect(job.name).toBe('risk-reduction');
    expect(job.id).toBe(alert.data.incidentId);
    // One incident: more breaching samples do not open a second one or a second job.
    expect(
      (await post(samples.map((s, i) => ({ ...s, ts: s.ts + 40 * 86_400_000 + i })))).status,
    ).toBe(202);
    await waitPartitionsDrained(redis, keys, P, 'strategySamples', GROUPS.scorer, 10_000);
    await waitPartitionsDrained(redis, keys, P, 'scores', GROUPS.alerter, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const varAlerts = client.frames.filter(
      (f) =>
        f.type === 'alert' &&
        f.data.rule === 'var_exceeded' &&
        f.data.subject === 'strategy/e2e-risky',
    );
    expect(varAlerts).toHaveLength(1);
    expect(jobs.filter((j) => j.name === 'risk-reduction')).toHaveLength(1);
    // Every score update in its strategy's partition; every sample in exactly one update.
    const updates = await readPartitions(redis, keys, P, 'scores', ScoreUpdate);
    const sampled = await readPartitions(redis, keys, P, 'strategySamples', StrategySample);
    updates.forEach((part, p) => {
      for (const u of part) expect(partitionOf(u.value.strategy, P)).toBe(p);
      expect(coverageProblems(sampled[p]!, part)).toEqual([]);
    });
    const risky = (e: { value: { strategy: string } }): boolean => e.value.strategy === 'e2e-risky';
    expect(sampled.flat().filter(risky)).toHaveLength(60);
    client.close();
  });

  it('answers a malformed body with 400 naming every bad field and writes nothing', async () => {
    const before = await total('strategySamples');
    const res = await post([
      { strategy: 'ok', ts: 1, return: 0.01 },
      { strategy: 'bad id!', ts: 'yesterday', return: '0.1' },
    ]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: string;
      issues: { path: string; message: string }[];
    };
    expect(body.issues.map((i) => i.path).sort()).toEqual(['[1].return', '[1].strategy', '[1].ts']);
    const notJson = await post('{"strategy": "x", "ts": 1, "return": 0.1');
    expect(notJson.status).toBe(400);
    const infinite = await post('{"strategy": "x", "ts": 1, "return": 1e999}');
    expect(infinite.status).toBe(400);
    expect(await total('strategySamples')).toBe(before);
  });
});
