import { EMERGENCY_QUEUE, keysFor } from '@quantmon/shared';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startPipeline, type Pipeline } from '../helpers/services.js';

const DAY = 86_400_000;
const TOKENS = 'vic:viewer:v-tok,olga:operator:o-tok,adam:admin:a-tok,old:plain-tok';

/**
 * The desk's REST side (issue 13) against the four real services: roles
 * (401, 403, /api/me), GET /api/pipeline, GET /api/incidents/{id} with the
 * emergency job a real BullMQ worker fails, and admin rule changes applied
 * by the running alerter without a restart and recorded in the audit.
 */
describe('desk API: roles, pipeline health, incidents, rule changes', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let base: string;
  let worker: Worker | undefined;
  const prefix = uniquePrefix('deskapi');
  const keys = keysFor(prefix);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    pipeline = await startPipeline(redisServer.url, prefix, { GATEWAY_TOKENS: TOKENS });
    base = `http://127.0.0.1:${pipeline.gateway.port}`;
  });

  afterAll(async () => {
    await worker?.close();
    await pipeline?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
  });

  const call = (token: string | undefined, method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('answers who the caller is and refuses what its role may not do', async () => {
    expect((await call(undefined, 'GET', '/api/me')).status).toBe(401);
    const me = async (t: string) => (await (await call(t, 'GET', '/api/me')).json()) as object;
    expect(await me('v-tok')).toEqual({
      name: 'vic',
      role: 'viewer',
      via: 'token',
      can: { acknowledge: false, silence: false, rules: false },
    });
    expect(await me('plain-tok')).toMatchObject({ name: 'old', role: 'operator' });
    expect(await me('a-tok')).toMatchObject({ role: 'admin', can: { rules: true } });
    const silence = {
      matchers: [{ name: 'rule', value: 'cpu_high' }],
      durationMs: 60_000,
      createdBy: 'x',
    };
    expect((await call('v-tok', 'GET', '/api/alerts')).status).toBe(200);
    expect((await call('v-tok', 'POST', '/api/silences', silence)).status).toBe(403);
    expect((await call('o-tok', 'POST', '/api/silences', silence)).status).toBe(201);
    expect((await call('o-tok', 'PUT', '/api/rules', { rules: {} })).status).toBe(403);
    expect((await call('plain-tok', 'PUT', '/api/rules', { rules: {} })).status).toBe(403);
    const doc = (await (await call(undefined, 'GET', '/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const p of [
      '/api/me',
      '/api/pipeline',
      '/api/incidents/{incidentId}',
      '/api/rules/document',
    ])
      expect(doc.paths).toHaveProperty([p]);
    expect(doc.paths['/api/rules']).toHaveProperty(['put']);
  });

  it('reports every service up with version and uptime, lag per group and partition, and the queue', async () => {
    const h = await eventually(
      async () => {
        const body = (await (await call('v-tok', 'GET', '/api/pipeline')).json()) as {
          services: {
            service: string;
            status: string;
            replicas: { version: string; uptimeSeconds: number }[];
          }[];
          lag: { stream: string; group: string; partition: number | null }[];
          partitions: number;
          emergencyQueue: Record<string, number>;
          deadLetters: number | null;
          ingest: { total: number | null };
        };
        return body.services.every((s) => s.status === 'up') ? body : undefined;
      },
      15_000,
      'all four services up',
    );
    expect(h.services.map((s) => s.service)).toEqual(['collector', 'scorer', 'alerter', 'gateway']);
    for (const s of h.services) {
      expect(s.replicas[0]?.version).toBe('0.1.0');
      expect(s.replicas[0]?.uptimeSeconds).toBeGreaterThanOrEqual(0);
    }
    const scorerGroups = h.lag.filter(
      (l) => l.stream === 'strategy-samples' && l.group === 'scorer',
    );
    expect(scorerGroups.map((l) => l.partition).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: h.partitions }, (_, p) => p),
    );
    expect(h.lag.some((l) => l.stream === 'alert-commands' && l.partition === null)).toBe(true);
    expect(h.emergencyQueue).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    expect(h.deadLetters).toBe(0);
  });

  it('follows an incident to its emergency job and the worker error that failed it', async () => {
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    const res = await pipeline.post(
      Array.from({ length: 25 }, (_, i) => ({
        strategy: 'api-risky',
        ts: t0 + i * DAY,
        return: i % 2 === 0 ? -0.25 : 0.12,
      })),
    );
    expect(res.status).toBe(202);
    const incidentId = await eventually(
      async () => {
        const b = (await (await call('v-tok', 'GET', '/api/alerts?state=firing')).json()) as {
          active: { incidentId: string; subject: string; rule: string }[];
        };
        return b.active.find((a) => a.subject === 'strategy/api-risky' && a.rule === 'var_exceeded')
          ?.incidentId;
      },
      20_000,
      'the var_exceeded incident',
    );
    const detail = async () =>
      (await (await call('v-tok', 'GET', `/api/incidents/${incidentId}`)).json()) as {
        open: boolean;
        timeline: { kind: string; by: string }[];
        job: { state: string; name: string; attemptsMade: number; failedReason?: string } | null;
      };
    const waiting = await eventually(
      async () => {
        const d = await detail();
        return d.job ? d : undefined;
      },
      10_000,
      'the emergency job',
    );
    expect(waiting.open).toBe(true);
    expect(waiting.job).toMatchObject({
      name: 'risk-reduction',
      state: 'waiting',
      attemptsMade: 0,
    });
    expect(waiting.timeline[0]).toMatchObject({ kind: 'firing', by: 'alerter' });
    // A worker in the trading stack that cannot act: the operator sees its error.
    worker = new Worker(
      EMERGENCY_QUEUE,
      () => Promise.reject(new Error('broker rejected the order: market closed')),
      {
        connection: new Redis(redisServer.url, { maxRetriesPerRequest: null }),
        prefix: `${prefix}-bull`,
      },
    );
    const failed = await eventually(
      async () => {
        const d = await detail();
        return d.job && d.job.attemptsMade >= 1 ? d : undefined;
      },
      15_000,
      'a failed attempt',
    );
    expect(failed.job?.failedReason).toBe('broker rejected the order: market closed');
    expect(['delayed', 'waiting', 'active', 'failed']).toContain(failed.job?.state);
    expect(
      (await call('o-tok', 'POST', `/api/alerts/${incidentId}/ack`, { by: 'olga' })).status,
    ).toBe(202);
    const acked = await eventually(
      async () => {
        const d = await detail();
        return d.timeline.some((s) => s.kind === 'acknowledged') ? d : undefined;
      },
      10_000,
      'the acknowledgement in the timeline',
    );
    expect(acked.timeline.find((s) => s.kind === 'acknowledged')?.by).toBe('olga');
    expect((await call('v-tok', 'GET', '/api/incidents/no-such-incident')).status).toBe(404);
  });

  it('applies an admin rule change without a restart, refuses invalid rules, and audits both ways', async () => {
    const bad = await call('a-tok', 'PUT', '/api/rules', {
      rules: { rules: { var_exceded: { threshold: 0.2 } } },
    });
    expect(bad.status).toBe(400);
    const issues = ((await bad.json()) as { issues: { rule?: string; message: string }[] }).issues;
    expect(issues[0]?.rule).toBe('var_exceded');
    const ok = await call('a-tok', 'PUT', '/api/rules', {
      rules: { rules: { drawdown_exceeded: { threshold: 0.2, clearThreshold: 0.18 } } },
      comment: 'desk is wider today',
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      version: 1,
      by: 'adam',
      changes: ['+drawdown_exceeded'],
    });
    await eventually(
      async () => {
        const r = (await (await call('v-tok', 'GET', '/api/rules')).json()) as {
          rules: { name: string; threshold: number; origin: string }[];
        };
        const dd = r.rules.find((x) => x.name === 'drawdown_exceeded');
        return dd?.threshold === 0.2 ? dd : undefined;
      },
      15_000,
      'the alerter to reload the new threshold',
    );
    expect((await call('a-tok', 'DELETE', '/api/rules')).status).toBe(200);
    await eventually(
      async () => {
        const r = (await (await call('v-tok', 'GET', '/api/rules')).json()) as {
          rules: { name: string; threshold: number }[];
        };
        return r.rules.find((x) => x.name === 'drawdown_exceeded')?.threshold === 0.1
          ? true
          : undefined;
      },
      15_000,
      'the alerter back on its defaults',
    );
    const audit = (await (await call('v-tok', 'GET', '/api/alerts?limit=50')).json()) as {
      audit: { kind: string; by: string; version?: number; removed?: boolean }[];
    };
    const changes = audit.audit.filter((a) => a.kind === 'rules-changed');
    expect(changes.map((c) => [c.by, c.version, c.removed ?? false])).toEqual([
      ['adam', 1, true],
      ['adam', 1, false],
    ]);
    expect(await redis.exists(keys.rulesDoc)).toBe(0);
  });
});
