import { keysFor, WS_CLOSE, type ServerFrame } from '@quantmon/shared';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, alertEvent, scoreUpdate, systemSample } from '../helpers/gateway-fixtures.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { ResumingClient } from '../helpers/resuming-client.js';
import { startService, type RunningService } from '../helpers/services.js';
import { TestWsClient } from '../helpers/ws-client.js';

/**
 * The gateway's fan-out as a real process over a real Redis: topics,
 * snapshots, resume without gap or duplicate, trimmed positions, and a
 * slow client that must not hold up anyone else. Entries are written to
 * the streams directly, as the scorer, collector and alerter write them.
 */
describe('gateway fan-out', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let gateway: RunningService;
  const prefix = uniquePrefix('gwf');
  const keys = keysFor(prefix);
  const ws = (): string => `ws://127.0.0.1:${gateway.port}/ws`;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      // Small limits so the slow-client test needs megabytes, not gigabytes.
      GATEWAY_MAX_BACKLOG_BYTES: String(256 * 1024),
      GATEWAY_WRITE_HIGH_WATER_BYTES: String(16 * 1024),
      GATEWAY_REPLAY_MAX: '5000',
    });
  });

  afterAll(async () => {
    const code = await gateway?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    expect(code).toBe(0);
  });

  it('sends a snapshot on subscribe, then live frames of the subscribed topics only', async () => {
    await add(redis, keys.scores, scoreUpdate('snap-a', 1));
    await new Promise((r) => setTimeout(r, 200));
    const c = await TestWsClient.connect(ws());
    c.send({ type: 'subscribe', topics: ['strategy:snap-a', 'system'] });
    const snap = await c.waitFor(
      (f): f is Extract<ServerFrame, { type: 'snapshot' }> =>
        f.type === 'snapshot' && f.topic === 'strategy:snap-a',
    );
    expect(snap.scores?.map((s) => s.id)).toEqual(['snap-a-1']);
    expect(snap.pos).toMatch(/^\d+-\d+$/);
    await add(redis, keys.scores, scoreUpdate('snap-b', 1)); // not subscribed
    await add(redis, keys.scores, scoreUpdate('snap-a', 2));
    await add(redis, keys.systemSamples, systemSample('h1', 1));
    await add(redis, keys.alerts, alertEvent(1)); // not subscribed
    await c.waitFor((f) => f.type === 'score' && f.data.id === 'snap-a-2');
    await c.waitFor((f) => f.type === 'system' && f.data.host === 'h1');
    c.send({ type: 'unsubscribe', topics: ['strategy:snap-a'] });
    await c.waitFor((f) => f.type === 'unsubscribed');
    await add(redis, keys.scores, scoreUpdate('snap-a', 3));
    await add(redis, keys.systemSamples, systemSample('h1', 2));
    await c.waitFor((f) => f.type === 'system' && f.data.cpu === systemSample('h1', 2).cpu);
    const kinds = c.frames.map((f) => (f.type === 'score' ? f.data.id : f.type));
    expect(kinds).not.toContain('snap-b-1');
    expect(kinds).not.toContain('snap-a-3');
    expect(kinds).not.toContain('alert');
    c.close();
  });

  it('delivers strategy frames to strategy:* and strategy:<id> subscribers, once each', async () => {
    const both = await TestWsClient.connect(ws());
    both.send({ type: 'subscribe', topics: ['strategy:*', 'strategy:once'] });
    await both.waitFor((f) => f.type === 'snapshot' && f.topic === 'strategy:once');
    await add(redis, keys.scores, scoreUpdate('once', 1));
    await add(redis, keys.scores, scoreUpdate('other', 1));
    await both.waitFor((f) => f.type === 'score' && f.data.id === 'other-1');
    await new Promise((r) => setTimeout(r, 100));
    expect(both.frames.filter((f) => f.type === 'score' && f.data.id === 'once-1')).toHaveLength(1);
    both.close();
  });

  it('resumes after a dropped connection with everything missed, no gap and no duplicate', async () => {
    const client = await new ResumingClient(ws(), {
      topics: ['alerts', 'strategy:resume-a'],
      reconnect: true,
      reconnectDelayMs: 300,
    }).start();
    // A steady flow of alerts and scores while the client drops twice.
    let n = 0;
    const written: string[] = [];
    const writer = (async () => {
      while (n < 300) {
        written.push(await add(redis, keys.alerts, alertEvent(10_000 + n)));
        await add(redis, keys.scores, scoreUpdate('resume-a', n));
        n++;
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    await client.waitFor(() => client.alerts().length > 50, 10_000, 'first alerts');
    client.ws?.terminate();
    await client.waitFor(() => client.connections === 2, 10_000, 'reconnect');
    await client.waitFor(() => client.alerts().length > 150, 10_000, 'more alerts');
    client.ws?.terminate();
    await writer;
    await client.waitFor(
      () => client.alerts().at(-1)?.pos === written.at(-1),
      10_000,
      'the last alert',
    );
    const got = client.alerts().map((f) => f.pos);
    expect(got).toEqual(written);
    const scores = client.data().filter((f) => f.type === 'score');
    const ids = scores.map((f) => f.pos);
    expect(new Set(ids).size).toBe(ids.length);
    expect(scores.at(-1)?.type === 'score' && scores.at(-1)?.data.id).toBe('resume-a-299');
    const resumed = client.frames.filter((f) => f.type === 'resumed');
    expect(resumed.length).toBeGreaterThanOrEqual(4); // two topics x two reconnects
    expect(client.frames.filter((f) => f.type === 'reset')).toHaveLength(0);
    client.stop();
  });

  it('answers a resume from a trimmed or unknown position with reset and a fresh snapshot', async () => {
    const first = await add(redis, keys.alerts, alertEvent(50_000));
    for (let i = 0; i < 300; i++) await add(redis, keys.alerts, alertEvent(50_001 + i));
    await redis.xtrim(keys.alerts, 'MAXLEN', 100);
    const c = await TestWsClient.connect(ws());
    c.send({ type: 'subscribe', topics: ['alerts'], since: { alerts: first } });
    const reset = await c.waitFor(
      (f): f is Extract<ServerFrame, { type: 'reset' }> => f.type === 'reset',
    );
    expect(reset).toEqual({ type: 'reset', topic: 'alerts', reason: 'trimmed' });
    await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'alerts');
    const d = await TestWsClient.connect(ws());
    d.send({ type: 'subscribe', topics: ['system'], since: { system: '99999999999999-0' } });
    const r2 = await d.waitFor((f) => f.type === 'reset');
    expect(r2).toMatchObject({ reason: 'unknown_position' });
    await d.waitFor((f) => f.type === 'snapshot' && f.topic === 'system');
    c.close();
    d.close();
  });

  it('closes a slow client with 4008 while a fast client keeps up, then the slow one resumes', async () => {
    const fast = await new ResumingClient(ws(), { topics: ['alerts'] }).start();
    const slow = await new ResumingClient(ws(), {
      topics: ['alerts'],
      reconnect: true,
      reconnectDelayMs: 100,
    }).start();
    await slow.waitFor(() => slow.frames.some((f) => f.type === 'snapshot'));
    slow.ws?.pause(); // stops reading: the kernel buffers fill, then the gateway's backlog
    const big = 'x'.repeat(2000);
    const written: string[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const tx = redis.multi();
      for (let i = 0; i < 100; i++) {
        tx.xadd(
          keys.alerts,
          '*',
          'd',
          JSON.stringify(alertEvent(60_000 + batch * 100 + i, { message: big })),
        );
      }
      for (const [, id] of (await tx.exec()) ?? []) written.push(id as string);
    }
    // The fast client has every alert while the slow one is still paused.
    await fast.waitFor(() => fast.alerts().at(-1)?.pos === written.at(-1), 20_000, 'fast client');
    expect(slow.closes).toHaveLength(0);
    const slowPos = slow.alerts().map((f) => f.pos);
    expect(slowPos.length).toBeLessThan(written.length);
    // Reading again: the slow client gets what was sent, then 4008, then resumes.
    slow.ws?.resume();
    await slow.waitFor(() => slow.closes.length > 0, 20_000, 'slow close');
    expect(slow.closes[0]?.code).toBe(WS_CLOSE.slowConsumer);
    await slow.waitFor(() => slow.alerts().at(-1)?.pos === written.at(-1), 20_000, 'slow resumed');
    const mine = new Set(written);
    const got = slow
      .alerts()
      .map((f) => f.pos)
      .filter((p) => mine.has(p));
    expect(got).toEqual(written);
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
    expect(metrics).toMatch(/quantmon_gateway_slow_closed_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/quantmon_gateway_frames_dropped_total\{[^}]*\} [1-9]/);
    fast.stop();
    slow.stop();
  });

  it('answers invalid messages with error frames and closes a flood with 4029 and a huge message with 1009', async () => {
    const c = await TestWsClient.connect(ws());
    c.ws.send('not json');
    c.send({ type: 'subscribe', topics: ['nope'] });
    c.send({ type: 'dance' });
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.waitFor(() => c.frames.filter((f) => f.type === 'error').length >= 4);
    const errors = c.frames.filter((f) => f.type === 'error').map((f) => f.message);
    expect(errors[0]).toMatch(/not valid JSON/);
    expect(errors[1]).toMatch(/topics/);
    c.send({ type: 'ping' });
    await c.waitFor((f) => f.type === 'pong');
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    for (let i = 0; i < 200; i++) c.send({ type: 'ping' });
    expect(await closed).toBe(WS_CLOSE.rateLimited);
    expect(c.frames.some((f) => f.type === 'error' && /rate limit/.test(f.message))).toBe(true);

    const big = await TestWsClient.connect(ws());
    const bigClosed = new Promise<number>((r) => big.ws.once('close', (code) => r(code)));
    big.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(20_000) }));
    expect(await bigClosed).toBe(WS_CLOSE.messageTooBig);
    // The gateway is still serving.
    expect((await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).status).toBe(200);
  });

  it('serves strategies, bounded history and the OpenAPI document', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) {
      await add(redis, keys.scores, scoreUpdate('hist-a', i));
      await add(redis, keys.scores, scoreUpdate('hist-b', i));
    }
    const base = `http://127.0.0.1:${gateway.port}`;
    await new Promise((r) => setTimeout(r, 200));
    const list = (await (await fetch(`${base}/api/strategies`)).json()) as {
      strategies: { strategy: string; id: string }[];
    };
    expect(list.strategies.find((s) => s.strategy === 'hist-a')?.id).toBe('hist-a-49');
    const h = (await (
      await fetch(`${base}/api/history?topic=strategy:hist-a&from=${t0}`)
    ).json()) as { points: { pos: string; data: { id: string } }[]; truncated: boolean };
    expect(h.points.map((p) => p.data.id)).toEqual(
      Array.from({ length: 50 }, (_, i) => `hist-a-${i}`),
    );
    expect(h.truncated).toBe(false);
    const thin = (await (
      await fetch(`${base}/api/history?topic=strategy:hist-a&from=${t0}&limit=10`)
    ).json()) as { points: { data: { id: string } }[]; truncated: boolean };
    expect(thin.points).toHaveLength(10);
    expect(thin.points.at(-1)?.data.id).toBe('hist-a-49');
    expect(thin.truncated).toBe(true);
    const bad = await fetch(`${base}/api/history?topic=weather`);
    expect(bad.status).toBe(400);
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const p of [
      '/api/summary',
      '/api/strategies',
      '/api/history',
      '/api/alerts/{incidentId}/ack',
      '/api/silences',
      '/healthz',
      '/metrics',
    ]) {
      expect(doc.paths).toHaveProperty([p]);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'quantmon_gateway_connections',
      'quantmon_gateway_frames_out_per_second',
      'quantmon_gateway_frames_conflated_total',
      'quantmon_gateway_outbox_frames',
      'quantmon_gateway_stream_lag_seconds',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('keeps frames as JSON text, one frame per message', async () => {
    const raw = new WebSocket(ws());
    const first = await new Promise<{ data: string; binary: boolean }>((r) =>
      raw.once('message', (d, binary) => r({ data: String(d), binary })),
    );
    expect(first.binary).toBe(false);
    expect(JSON.parse(first.data)).toMatchObject({ type: 'hello' });
    raw.close();
  });
});
