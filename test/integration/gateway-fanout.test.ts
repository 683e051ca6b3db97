import { encodeEntry, keysFor, WS_CLOSE, type ServerFrame } from '@quantmon/shared';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate, systemSample } from '../helpers/gateway-fixtures.js';
import { at, byPartition, PartitionedFeed, type Written } from '../helpers/gateway-partitions.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { ResumingClient } from '../helpers/resuming-client.js';
import { startService, type RunningService } from '../helpers/services.js';
import { TestWsClient } from '../helpers/ws-client.js';

/**
 * The gateway's fan-out as a real process over a real Redis: topics,
 * snapshots, resume without gap or duplicate, trimmed positions, and a
 * slow client that must not hold up anyone else; with one partition and
 * with four. Entries are written to the partition streams directly, as the
 * scorer, collector and alerter write them.
 */
describe.each([1, 4])('gateway fan-out, %i partition(s)', (P) => {
  let redisServer: TestRedis;
  let redis: Redis;
  let feed: PartitionedFeed;
  let gateway: RunningService;
  const prefix = uniquePrefix('gwf');
  const keys = keysFor(prefix);
  const ws = (): string => `ws://127.0.0.1:${gateway.port}/ws`;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    feed = new PartitionedFeed(redis, keys, P);
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(P),
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
    const c = await TestWsClient.connect(ws());
    expect(await c.waitFor((f) => f.type === 'hello')).toMatchObject({ partitions: P });
    c.send({ type: 'subscribe', topics: ['strategy:snap-a'] });
    await c.waitFor((f) => f.type === 'snapshot');
    const first = await feed.score(scoreUpdate('snap-a', 1));
    // Received live: the gateway's state has it, so the next snapshot includes it.
    await c.waitFor((f) => f.type === 'score' && f.data.id === 'snap-a-1');
    c.send({ type: 'unsubscribe', topics: ['strategy:snap-a'] });
    await c.waitFor((f) => f.type === 'unsubscribed');
    c.send({ type: 'subscribe', topics: ['strategy:snap-a', 'system'] });
    const snap = await c.waitFor(
      (f): f is Extract<ServerFrame, { type: 'snapshot' }> =>
        f.type === 'snapshot' && f.topic === 'strategy:snap-a' && f.scores?.length === 1,
    );
    expect(snap.scores?.map((s) => s.id)).toEqual(['snap-a-1']);
    expect(snap.pos).toMatch(/^\d+-\d+$/);
    expect(Object.keys(snap.positions?.scores ?? {})).toHaveLength(P);
    expect(snap.positions?.scores?.[String(first.part)]).toBe(first.pos);
    await feed.score(scoreUpdate('snap-b', 1)); // not subscribed
    const a2 = await feed.score(scoreUpdate('snap-a', 2));
    await feed.system(systemSample('h1', 1));
    await feed.alert(alertEvent(1)); // not subscribed
    const f2 = await c.waitFor((f) => f.type === 'score' && f.data.id === 'snap-a-2');
    expect(f2).toMatchObject({ pos: a2.pos, part: a2.part });
    await c.waitFor((f) => f.type === 'system' && f.data.host === 'h1');
    c.send({ type: 'unsubscribe', topics: ['strategy:snap-a'] });
    await c.waitFor(() => c.frames.filter((f) => f.type === 'unsubscribed').length === 2);
    await feed.score(scoreUpdate('snap-a', 3));
    await feed.system(systemSample('h1', 2));
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
    await feed.score(scoreUpdate('once', 1));
    await feed.score(scoreUpdate('other', 1));
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
    // A steady flow of alerts (over every partition) and scores while the client drops twice.
    let n = 0;
    const written: Written[] = [];
    const writer = (async () => {
      while (n < 300) {
        written.push(await feed.alert(alertEvent(10_000 + n)));
        await feed.score(scoreUpdate('resume-a', n));
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
    await waitForAll(() => client.alerts(), written);
    // The last score is in another partition's stream than the last alert: it may arrive a read later.
    await client.waitFor(
      () => client.data().some((f) => f.type === 'score' && f.data.id === 'resume-a-299'),
      10_000,
      'the last score',
    );
    // Every alert once, and in stream order within its partition.
    expect(byPartition(client.alerts())).toEqual(byPartition(written));
    if (P === 1) expect(client.alerts().map((f) => f.pos)).toEqual(written.map((w) => w.pos));
    if (P > 1) expect(byPartition(written).size).toBeGreaterThan(1);
    const scores = client.data().filter((f) => f.type === 'score');
    const ids = scores.map(at);
    expect(new Set(ids).size).toBe(ids.length);
    expect(scores.at(-1)?.type === 'score' && scores.at(-1)?.data.id).toBe('resume-a-299');
    const resumed = client.frames.filter((f) => f.type === 'resumed');
    expect(resumed.length).toBeGreaterThanOrEqual(4); // two topics x two reconnects
    expect(client.frames.filter((f) => f.type === 'reset')).toHaveLength(0);
    client.stop();
  });

  it('answers a resume from a trimmed or unknown position with reset and a fresh snapshot', async () => {
    // Every alert of this test in one partition (7 subjects: fixtures cycle over s0..s6).
    const one = alertEvent(50_000);
    const part = feed.partOfAlert(one);
    const alerts = keys.partition(part).alerts;
    const first = await feed.alert(one);
    for (let i = 0; i < 300; i++) {
      await feed.alert(alertEvent(50_007 + i * 7)); // same subject as `one`
    }
    await redis.xtrim(alerts, 'MAXLEN', 100);
    const since = (id: string) => (P === 1 ? id : positions(P, part, id, '0-0'));
    const c = await TestWsClient.connect(ws());
    c.send({ type: 'subscribe', topics: ['alerts'], since: { alerts: since(first.pos) } });
    const reset = await c.waitFor(
      (f): f is Extract<ServerFrame, { type: 'reset' }> => f.type === 'reset',
    );
    expect(reset).toEqual({ type: 'reset', topic: 'alerts', reason: 'trimmed' });
    await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'alerts');
    const d = await TestWsClient.connect(ws());
    d.send({
      type: 'subscribe',
      topics: ['system'],
      since: { system: since('99999999999999-0') },
    });
    const r2 = await d.waitFor((f) => f.type === 'reset');
    expect(r2).toMatchObject({ reason: 'unknown_position' });
    await d.waitFor((f) => f.type === 'snapshot' && f.topic === 'system');
    c.close();
    d.close();
  });

  it('resumes the single-position form exactly with one partition, and resets it (partitioned) with more', async () => {
    const w = await TestWsClient.connect(ws());
    w.send({ type: 'subscribe', topics: ['alerts'] });
    await w.waitFor((f) => f.type === 'snapshot' && f.topic === 'alerts');
    const a = await feed.alert(alertEvent(70_000));
    const b = await feed.alert(alertEvent(70_001));
    // The gateway has applied b once a subscriber got it live: the snapshot
    // below must show it (subscribing at once raced the gateway's read of b).
    await w.waitFor((f) => f.type === 'alert' && f.pos === b.pos);
    w.close();
    const c = await TestWsClient.connect(ws());
    c.send({ type: 'subscribe', topics: ['alerts'], since: { alerts: a.pos } });
    if (P === 1) {
      await c.waitFor((f) => f.type === 'resumed');
      const replayed = c.frames.filter((f) => f.type === 'alert').map(at);
      expect(replayed).toEqual([at(b)]);
      expect(c.frames.find((f) => f.type === 'resumed')).toMatchObject({
        topic: 'alerts',
        replayed: 1,
        pos: b.pos,
        positions: { alerts: { '0': b.pos } },
      });
    } else {
      expect(await c.waitFor((f) => f.type === 'reset')).toEqual({
        type: 'reset',
        topic: 'alerts',
        reason: 'partitioned',
      });
      const snap = await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'alerts');
      expect(snap).toMatchObject({ positions: { alerts: { [String(b.part)]: b.pos } } });
      expect(c.frames.some((f) => f.type === 'alert')).toBe(false);
    }
    c.close();
  });

  it('resets a topic whose positions miss a partition or name one that does not exist', async () => {
    const c = await TestWsClient.connect(ws());
    const all = positions(P, 0, '0-0', '0-0');
    const missing = Object.fromEntries(Object.entries(all).slice(1));
    const extra = { ...all, [String(P)]: '0-0' };
    c.send({ type: 'subscribe', topics: ['system'], since: { system: missing } });
    c.send({ type: 'subscribe', topics: ['alerts'], since: { alerts: extra } });
    const resets = [
      await c.waitFor((f) => f.type === 'reset' && f.topic === 'system'),
      await c.waitFor((f) => f.type === 'reset' && f.topic === 'alerts'),
    ];
    for (const r of resets) expect(r).toMatchObject({ reason: 'partitioned' });
    await c.waitFor((f) => f.type === 'snapshot' && f.topic === 'alerts');
    c.send({ type: 'subscribe', topics: ['alerts'], since: { alerts: { '01': '0-0' } } });
    expect(await c.waitFor((f) => f.type === 'error')).toMatchObject({
      message: expect.stringMatching(/since\.alerts: .*one per partition/),
    });
    c.close();
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
    const written: Written[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const tx = redis.multi(); // one Redis: a MULTI may span partitions here
      const parts: number[] = [];
      for (let i = 0; i < 100; i++) {
        const a = alertEvent(60_000 + batch * 100 + i, { message: big });
        const part = feed.partOfAlert(a);
        parts.push(part);
        tx.xadd(keys.partition(part).alerts, '*', ...encodeEntry(a));
      }
      const ids = ((await tx.exec()) ?? []).map(([, id]) => id as string);
      ids.forEach((pos, i) => written.push({ part: parts[i] ?? -1, pos }));
    }
    // The fast client has every alert while the slow one is still paused.
    await waitForAll(() => fast.alerts(), written, 20_000);
    expect(slow.closes).toHaveLength(0);
    expect(slow.alerts().length).toBeLessThan(written.length);
    // Reading again: the slow client gets what was sent, then 4008, then resumes.
    slow.ws?.resume();
    await slow.waitFor(() => slow.closes.length > 0, 20_000, 'slow close');
    expect(slow.closes[0]?.code).toBe(WS_CLOSE.slowConsumer);
    await waitForAll(() => slow.alerts(), written, 20_000);
    const mine = new Set(written.map(at));
    const got = slow.alerts().filter((f) => mine.has(at(f)));
    expect(byPartition(got)).toEqual(byPartition(written));
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
    // Says what a topic may be, not zod's bare "Invalid input".
    expect(errors[1]).toMatch(/topics\.0: a topic is system, alerts, strategy:\*, strategy:<id>/);
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
      await feed.score(scoreUpdate('hist-a', i));
      await feed.score(scoreUpdate('hist-b', i));
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

/** A partitioned `since` record: `id` for partition `part`, `others` for the rest. */
function positions(P: number, part: number, id: string, others = id): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: P }, (_, p) => [String(p), p === part ? id : others]),
  );
}

/** Wait until a client holds every written entry (any order). */
async function waitForAll(
  frames: () => { part?: number | undefined; pos: string }[],
  written: readonly Written[],
  timeoutMs = 10_000,
): Promise<void> {
  const want = new Set(written.map(at));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = new Set(frames().map(at));
    const missing = [...want].filter((w) => !got.has(w));
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${missing.length} of ${want.size} entries missing, e.g. ${missing[0]}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
