import { keysFor, type ScoreSpan, type ScoreUpdate, type ServerFrame } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreUpdate } from '../helpers/gateway-fixtures.js';
import { PartitionedFeed } from '../helpers/gateway-partitions.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';
import { until } from '../helpers/streams.js';
import { isScore, TestWsClient } from '../helpers/ws-client.js';

type Snapshot = Extract<ServerFrame, { type: 'snapshot' }>;
type Score = Extract<ServerFrame, { type: 'score' }>;

const span: ScoreSpan = {
  samples: 4,
  firstEntryId: '1767225599000-0',
  firstCount: 3,
  low: { valueAtRisk: -0.2, currentDrawdown: -0.1, 'scores.risk': 30 },
  high: { valueAtRisk: -0.01, currentDrawdown: 0, 'scores.risk': 60 },
};

/** An update as the scorer writes one that covers several samples: the span last. */
const spanned = (strategy: string, i: number): ScoreUpdate => ({
  ...scoreUpdate(strategy, i),
  span,
});

/**
 * Subscribe's `omit: ["span"]` on a real gateway over a real Redis: the
 * connection's score updates come without their span, live, in snapshots
 * and in replays, while other connections still get it; `omit: []` puts it
 * back; an unknown key is refused by name.
 */
describe('gateway: score updates without their span (subscribe omit)', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let feed: PartitionedFeed;
  let gateway: RunningService;
  const prefix = uniquePrefix('gwo');
  const keys = keysFor(prefix);
  const ws = (): string => `ws://127.0.0.1:${gateway.port}/ws`;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    feed = new PartitionedFeed(redis, keys, 2);
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

  it('sends the same update with its span to one client and without to the other', async () => {
    const lean = await TestWsClient.connect(ws());
    const full = await TestWsClient.connect(ws());
    lean.send({ type: 'subscribe', topics: ['strategy:*'], omit: ['span'] });
    full.send({ type: 'subscribe', topics: ['strategy:*'] });
    await lean.waitFor((f) => f.type === 'snapshot');
    await full.waitFor((f) => f.type === 'snapshot');

    const u = spanned('om-a', 1);
    const at = await feed.score(u);
    const got = await lean.waitFor(isScore('om-a-1'));
    const { span: _span, ...rest } = u;
    expect(got).toEqual({ type: 'score', pos: at.pos, part: at.part, data: rest });
    expect((await full.waitFor(isScore('om-a-1'))).data).toEqual(u);

    // A new connection's snapshot follows its own choice too.
    const later = await TestWsClient.connect(ws());
    later.send({ type: 'subscribe', topics: ['strategy:om-a'], omit: ['span'] });
    const snap = await later.waitFor((f): f is Snapshot => f.type === 'snapshot');
    expect(snap.scores).toEqual([rest]);
    const fullLater = await TestWsClient.connect(ws());
    fullLater.send({ type: 'subscribe', topics: ['strategy:om-a'] });
    const fullSnap = await fullLater.waitFor((f): f is Snapshot => f.type === 'snapshot');
    expect(fullSnap.scores).toEqual([u]);

    // `omit: []` puts the span back from then on.
    lean.send({ type: 'subscribe', topics: ['system'], omit: [] });
    await lean.waitFor((f) => f.type === 'subscribed' && f.topics[0] === 'system');
    await feed.score(spanned('om-a', 2));
    expect((await lean.waitFor(isScore('om-a-2'))).data.span).toEqual(span);
    for (const c of [lean, full, later, fullLater]) c.close();
  });

  it('replays without the span on resume', async () => {
    const first = await TestWsClient.connect(ws());
    first.send({ type: 'subscribe', topics: ['strategy:*'], omit: ['span'] });
    const snap = await first.waitFor((f): f is Snapshot => f.type === 'snapshot');
    first.close();
    const missed = ['om-r', 'om-s', 'om-t'].map((s) => spanned(s, 1));
    for (const u of missed) await feed.score(u);

    const again = await TestWsClient.connect(ws());
    again.send({
      type: 'subscribe',
      topics: ['strategy:*'],
      since: { scores: snap.positions?.scores },
      omit: ['span'],
    });
    const resumed = await again.waitFor((f) => f.type === 'resumed');
    expect(resumed).toMatchObject({ replayed: 3 });
    const replayed = again.frames.filter((f): f is Score => f.type === 'score');
    expect(replayed.map((f) => f.data.strategy).sort()).toEqual(['om-r', 'om-s', 'om-t']);
    for (const f of replayed) {
      expect(f.data.span).toBeUndefined();
      expect(f.data.metrics).toEqual(missed.find((u) => u.strategy === f.data.strategy)?.metrics);
    }
    again.close();
  });

  /** Until the gateway counts `n` open connections (a close reaches it a moment after the client's). */
  const connections = (n: number): Promise<void> =>
    until(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
        const m = /^quantmon_gateway_connections(?:\{[^}]*\})? (\d+)/m.exec(text);
        return m !== null && Number(m[1]) === n;
      },
      `${n} open gateway connections`,
      10_000,
    );

  it('decodes updates without their span while every client omits it', async () => {
    await connections(0);
    const lean = await TestWsClient.connect(ws());
    lean.send({ type: 'subscribe', topics: ['strategy:om-l'], omit: ['span'] });
    await lean.waitFor((f) => f.type === 'snapshot');
    const u1 = spanned('om-l', 1);
    await feed.score(u1);
    const { span: _s1, ...rest1 } = u1;
    expect((await lean.waitFor(isScore('om-l-1'))).data).toEqual(rest1);

    // Decoded while no one took spans, the gateway kept it without: a
    // client that takes spans gets its snapshot so, and spans from then on.
    const full = await TestWsClient.connect(ws());
    full.send({ type: 'subscribe', topics: ['strategy:om-l'] });
    const snap = await full.waitFor((f): f is Snapshot => f.type === 'snapshot');
    expect(snap.scores).toEqual([rest1]);
    const u2 = spanned('om-l', 2);
    await feed.score(u2);
    expect((await full.waitFor(isScore('om-l-2'))).data).toEqual(u2);
    expect((await lean.waitFor(isScore('om-l-2'))).data.span).toBeUndefined();

    // Once it has gone, updates are decoded without their span again.
    full.close();
    await connections(1);
    const u3 = spanned('om-l', 3);
    await feed.score(u3);
    await lean.waitFor(isScore('om-l-3'));
    const later = await TestWsClient.connect(ws());
    later.send({ type: 'subscribe', topics: ['strategy:om-l'] });
    const laterSnap = await later.waitFor((f): f is Snapshot => f.type === 'snapshot');
    const { span: _s3, ...rest3 } = u3;
    expect(laterSnap.scores).toEqual([rest3]);
    for (const c of [lean, later]) c.close();
  });

  it('refuses an unknown key by name and changes nothing', async () => {
    const c = await TestWsClient.connect(ws());
    c.send({ type: 'subscribe', topics: ['strategy:om-x'], omit: ['spam'] });
    const err = await c.waitFor((f) => f.type === 'error');
    expect(err).toMatchObject({ message: expect.stringContaining('omit.0') });
    expect(c.frames.some((f) => f.type === 'subscribed')).toBe(false);
    c.close();
  });
});
