import { GROUPS, IngestSocketAnswer, partitionOf } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SampleSocket, SampleSocketClosedError } from '../../packages/client/src/sample-socket.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import {
  allSamples,
  ingestSuite,
  startIngestServer,
  strategiesCovering,
  strategySamples,
} from './collector-harness.js';

/**
 * The collector's ingest socket (/v1/samples/ws) against a real Redis:
 * answers in message order with the POST's statuses, samples written once
 * and in order, flow control, auth, and shutdown with writes in flight.
 */
describe('collector ingest socket', () => {
  const suite = ingestSuite('ingest-socket');

  async function setup(
    opts: Omit<Parameters<typeof startIngestServer>[0], 'redis' | 'prefix'> = {},
  ) {
    const { srv, prefix, keys } = await suite.start(opts);
    return {
      srv,
      prefix,
      keys,
      stream: () => allSamples(suite.redis, prefix, srv.partitions),
      of: (strategy: string) => strategySamples(suite.redis, prefix, srv.partitions, strategy),
    };
  }

  /** A raw client: every answer as parsed JSON, in arrival order. */
  async function rawClient(url: string, headers: Record<string, string> = {}) {
    const ws = new WebSocket(url, { headers });
    const answers: IngestSocketAnswer[] = [];
    ws.on('message', (d) => answers.push(IngestSocketAnswer.parse(JSON.parse(String(d)))));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const waitFor = async (n: number) => {
      const until = Date.now() + 10_000;
      while (answers.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(answers.length).toBe(n);
      return answers;
    };
    return { ws, answers, waitFor };
  }

  it('writes single samples pipelined on one connection once each, in order, answered in order', async () => {
    const { srv, of, stream } = await setup();
    const strategies = strategiesCovering('one', srv.partitions);
    const socket = await SampleSocket.open({ url: srv.socketUrl });
    const N = 2_000;
    const sent = Array.from({ length: N }, (_, i) =>
      socket.send({
        strategy: strategies[i % strategies.length]!,
        ts: 1_000 + i,
        return: (i % 7) / 1000,
        id: `s${i}`,
      }),
    );
    expect(socket.pending).toBe(N);
    const answers = await Promise.all(sent);
    expect(answers.map((a) => a.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(answers.every((a) => a.status === 202 && 'accepted' in a && a.accepted === 1)).toBe(
      true,
    );
    expect(await stream()).toHaveLength(N);
    // Each strategy's samples in the order they were sent: none skipped as out of order.
    for (const s of strategies) {
      const ts = (await of(s)).map((x) => x.ts);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(ts).toHaveLength(N / strategies.length);
    }
    // The same messages again: duplicates, nothing written twice.
    const again = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        socket.send({
          strategy: strategies[i % strategies.length]!,
          ts: 1_000 + i,
          return: 0,
          id: `s${i}`,
        }),
      ),
    );
    expect(again.every((a) => a.status === 202 && 'duplicates' in a && a.duplicates === 1)).toBe(
      true,
    );
    expect(await stream()).toHaveLength(N);
    await socket.close();
  });

  it('answers a malformed message with 400 naming the field and writes nothing of it; the others go on', async () => {
    const { srv, stream } = await setup();
    const c = await rawClient(srv.socketUrl);
    c.ws.send(JSON.stringify({ strategy: 'm', ts: 1, return: 0.01 }));
    c.ws.send(
      JSON.stringify([
        { strategy: 'm', ts: 2, return: 0.01 },
        { strategy: 'm', ts: 3, return: 'x' },
      ]),
    );
    c.ws.send('{not json');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send(JSON.stringify({ strategy: 'm', ts: 4, return: -0.02 }));
    const answers = await c.waitFor(5);
    expect(answers.map((a) => [a.seq, a.status])).toEqual([
      [1, 202],
      [2, 400],
      [3, 400],
      [4, 415],
      [5, 202],
    ]);
    const bad = answers[1] as Extract<IngestSocketAnswer, { error: string }>;
    expect(bad.issues?.map((i) => i.path)).toEqual(['[1].return']);
    expect((answers[2] as { error: string }).error).toMatch(/not valid JSON/);
    expect((await stream()).map((s) => s.ts)).toEqual([1, 4]);
    expect(srv.statuses.filter((s) => s === 400)).toHaveLength(2);
    c.ws.close();
  });

  it('answers a ts too far ahead (INGEST_MAX_FUTURE_MS) or in microseconds with 400 naming it, as the POST does', async () => {
    const { srv, stream } = await setup({ maxFutureMs: 600_000 });
    const c = await rawClient(srv.socketUrl);
    const now = Date.now();
    c.ws.send(JSON.stringify({ strategy: 'f', ts: now + 2 * 86_400_000, return: 0.01 }));
    c.ws.send(JSON.stringify({ strategy: 'f', ts: now * 1000, return: 0.01 }));
    c.ws.send(JSON.stringify({ strategy: 'f', ts: now, return: 0.01 }));
    const answers = (await c.waitFor(3)) as Extract<IngestSocketAnswer, { status: number }>[];
    expect(answers.map((a) => a.status)).toEqual([400, 400, 202]);
    const issue = (a: IngestSocketAnswer) => (a as { issues?: { message: string }[] }).issues?.[0];
    expect(issue(answers[0]!)?.message).toMatch(/ahead of the collector's clock/);
    expect(issue(answers[1]!)?.message).toMatch(/microseconds or nanoseconds/);
    expect((await stream()).map((s) => s.ts)).toEqual([now]);
    c.ws.close();
  });

  it('answers a burst sent in one go by a client too busy sending to read (flow control on unread answers)', async () => {
    const { srv, stream } = await setup({ socket: { maxBufferedBytes: 64 * 1024 } });
    const socket = await SampleSocket.open({ url: srv.socketUrl });
    const N = 60_000;
    // One synchronous loop: the client reads no answer until every message is out.
    const all = Array.from({ length: N }, (_, i) =>
      socket.send({ strategy: `burst-${i % 8}`, ts: i + 1, return: 0, id: `b${i}` }),
    );
    const answers = await Promise.all(all);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(N);
    expect(await stream()).toHaveLength(N);
    await socket.close();
  }, 60_000);

  it('answers each message of one write with its own counts: duplicates, reordering, out of order', async () => {
    const { srv, of } = await setup();
    const c = await rawClient(srv.socketUrl);
    // Sent together: the collector takes them in one read and writes them together.
    c.ws.send(JSON.stringify({ strategy: 'w', ts: 10, return: 0, id: 'w10' }));
    c.ws.send(
      JSON.stringify([
        { strategy: 'w', ts: 30, return: 0, id: 'w30' },
        { strategy: 'w', ts: 20, return: 0, id: 'w20' },
      ]),
    );
    c.ws.send(JSON.stringify({ strategy: 'w', ts: 10, return: 0, id: 'w10' }));
    c.ws.send(JSON.stringify({ strategy: 'v', ts: 5, return: 0 }));
    const first = await c.waitFor(4);
    expect(first).toEqual([
      expect.objectContaining({ seq: 1, status: 202, accepted: 1, duplicates: 0, reordered: 0 }),
      expect.objectContaining({ seq: 2, status: 202, accepted: 2, reordered: 2 }),
      expect.objectContaining({ seq: 3, status: 202, accepted: 0, duplicates: 1 }),
      expect.objectContaining({ seq: 4, status: 202, accepted: 1 }),
    ]);
    // Later: older than w's latest (30), skipped and listed by its index.
    c.ws.send(
      JSON.stringify([
        { strategy: 'w', ts: 40, return: 0 },
        { strategy: 'w', ts: 25, return: 0 },
      ]),
    );
    const [fifth] = (await c.waitFor(5)).slice(4);
    expect(fifth).toMatchObject({ seq: 5, accepted: 1, outOfOrder: 1, outOfOrderIndexes: [1] });
    expect((await of('w')).map((x) => x.ts)).toEqual([10, 20, 30, 40]);
    c.ws.close();
  });

  it('answers 413 for a batch over the limit and writes none of it', async () => {
    const { srv, stream } = await setup({ maxBatch: 3 });
    const socket = await SampleSocket.open({ url: srv.socketUrl });
    const a = await socket.send([1, 2, 3, 4].map((ts) => ({ strategy: 'b', ts, return: 0 })));
    expect(a).toMatchObject({ seq: 1, status: 413 });
    expect(await stream()).toHaveLength(0);
    await socket.close();
  });

  it('answers 429 with retryAfterSeconds while the scorer is behind, then accepts the same message', async () => {
    const { srv, keys, of } = await setup({ maxLag: 50, lagCheckMs: 0 });
    // The lag sits in another partition than the strategy's: it is the sum over partitions.
    const s0 = keys.partition(
      (partitionOf('bp', srv.partitions) + 1) % srv.partitions,
    ).strategySamples;
    const p = suite.redis.pipeline();
    for (let i = 0; i < 60; i++) p.xadd(s0, '*', 'd', '{}');
    await p.exec();
    await suite.redis.xgroup('CREATE', s0, GROUPS.scorer, '0');
    const socket = await SampleSocket.open({ url: srv.socketUrl });
    const msg = { strategy: 'bp', ts: 1, return: 0, id: 'bp1' };
    const refused = await socket.send(msg);
    expect(refused).toMatchObject({ seq: 1, status: 429 });
    expect((refused as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((refused as { error: string }).error).toMatch(/60 samples behind/);
    await suite.redis.xreadgroup('GROUP', GROUPS.scorer, 'c', 'COUNT', 100, 'STREAMS', s0, '>');
    expect(await socket.send(msg)).toMatchObject({ seq: 2, status: 202, accepted: 1 });
    expect(await of('bp')).toHaveLength(1);
    await socket.close();
  });

  it('refuses the upgrade without a valid token (401) and from a browser page (403)', async () => {
    const { srv } = await setup({ tokens: ['tok-1'] });
    await expect(SampleSocket.open({ url: srv.socketUrl })).rejects.toThrow(/HTTP 401/);
    await expect(SampleSocket.open({ url: srv.socketUrl, token: 'wrong' })).rejects.toThrow(
      /HTTP 401/,
    );
    const ok = await SampleSocket.open({ url: srv.socketUrl, token: 'tok-1' });
    expect(await ok.send({ strategy: 't', ts: 1, return: 0 })).toMatchObject({ status: 202 });
    await ok.close();
    const fromPage = new WebSocket(srv.socketUrl, {
      headers: { authorization: 'Bearer tok-1' },
      origin: 'https://example.com',
    });
    fromPage.on('error', () => undefined);
    const status = await new Promise<number>((resolve) =>
      fromPage.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(403);
    fromPage.terminate();
    const wrongPath = new WebSocket(srv.socketUrl.replace('/v1/samples/ws', '/v1/other'));
    wrongPath.on('error', () => undefined);
    const status404 = await new Promise<number>((resolve) =>
      wrongPath.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status404).toBe(404);
    wrongPath.terminate();
  });

  it('stops reading a connection at its limit of unanswered messages and answers every one', async () => {
    let release: () => void = () => undefined;
    let held = new Promise<void>((r) => (release = r));
    const { srv, stream } = await setup({
      socket: { maxPending: 8 },
      beforeWrite: () => held,
    });
    const socket = await SampleSocket.open({ url: srv.socketUrl });
    const N = 20_000;
    const all = Array.from({ length: N }, (_, i) =>
      socket.send({ strategy: 'fc', ts: i + 1, return: 0, id: `fc${i}` }),
    );
    // Writes are held: the collector stopped reading at its limit, give or
    // take the rest of one socket read (64 KB, ~1,200 of these messages),
    // and left the rest in TCP.
    const until = Date.now() + 5_000;
    while (srv.sockets.unanswered < 8 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await stream()).toHaveLength(0);
    expect(srv.sockets.unanswered).toBeGreaterThanOrEqual(8);
    expect(srv.sockets.unanswered).toBeLessThan(3_000);
    release();
    held = Promise.resolve();
    const answers = await Promise.all(all);
    expect(answers.every((a, i) => a.status === 202 && a.seq === i + 1)).toBe(true);
    expect((await stream()).map((s) => s.ts)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    await socket.close();
  });

  it('reconnects after a cut that lost answers and sends the unanswered again: each sample written once, in order', async () => {
    const { srv, of } = await setup();
    const proxy = await startTcpProxy(srv.socketUrl.replace(/^ws/, 'http'));
    const port = new URL(proxy.url).port;
    const socket = await SampleSocket.open({
      url: `ws://127.0.0.1:${port}/v1/samples/ws`,
      maxBackoffMs: 200,
    });
    const N = 3_000;
    const send = (i: number) =>
      socket.send({ strategy: 'rc', ts: i + 1, return: 0.001, id: `rc${i}` });
    const first = Array.from({ length: 100 }, (_, i) => send(i));
    await Promise.all(first);
    // The collector writes and answers the next ones, but the answers are lost
    // on the way (dropped from here on, so none can slip through); once all
    // are written, the line is cut.
    proxy.dropReplies = true;
    const lost = Array.from({ length: N / 2 - 100 }, (_, i) => send(100 + i));
    const until = Date.now() + 10_000;
    while ((await of('rc')).length < N / 2 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await of('rc')).length).toBe(N / 2);
    proxy.cutAll();
    proxy.dropReplies = false;
    // Sent while the socket reconnects: they go out after the unanswered ones.
    const second = Array.from({ length: N / 2 }, (_, i) => send(N / 2 + i));
    const answers = await Promise.all([...first, ...lost, ...second]);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const counted = answers.reduce(
      (n, a) => n + ('accepted' in a ? a.accepted + a.duplicates : 0),
      0,
    );
    expect(counted).toBe(N);
    // Answers lost after the write come back as duplicates, not as second copies.
    const resent = await Promise.all(lost);
    expect(resent.every((a) => 'duplicates' in a && a.duplicates === 1)).toBe(true);
    expect((await of('rc')).map((s) => s.ts)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    await socket.close();
    await proxy.close();
  });

  it('gives up on a refusal another attempt cannot fix, rejecting what waits', async () => {
    const { srv } = await setup({ tokens: ['tok-r'] });
    const proxy = await startTcpProxy(srv.socketUrl.replace(/^ws/, 'http'));
    const port = new URL(proxy.url).port;
    const socket = await SampleSocket.open({
      url: `ws://127.0.0.1:${port}/v1/samples/ws`,
      token: 'tok-r',
      maxBackoffMs: 50,
    });
    expect(await socket.send({ strategy: 'g', ts: 1, return: 0 })).toMatchObject({ status: 202 });
    // The token is withdrawn (the collector restarted with other INGEST_TOKENS), then the line drops.
    srv.setTokens(['other']);
    proxy.dropReplies = true;
    const lost = socket.send({ strategy: 'g', ts: 2, return: 0 });
    await new Promise((r) => setTimeout(r, 50));
    proxy.cutAll();
    proxy.dropReplies = false;
    await expect(lost).rejects.toThrow(/HTTP 401/);
    await expect(socket.send({ strategy: 'g', ts: 3, return: 0 })).rejects.toThrow(/HTTP 401/);
    await proxy.close();
  });

  it('on shutdown answers the messages whose writes are in flight, then closes with 1001', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const { srv, stream } = await setup({ beforeWrite: () => held });
    const socket = await SampleSocket.open({ url: srv.socketUrl, reconnect: false });
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      socket.send({ strategy: 'sd', ts: i + 1, return: 0 }),
    );
    // Every message taken (its write held) before shutdown begins; later ones would not be.
    while (srv.sockets.unanswered < 20) await new Promise((r) => setTimeout(r, 5));
    const closing = srv.sockets.close();
    setTimeout(release, 100);
    const answers = await Promise.all(inFlight);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    await closing;
    await expect(socket.send({ strategy: 'sd', ts: 99, return: 0 })).rejects.toBeInstanceOf(
      SampleSocketClosedError,
    );
    await expect(socket.send({ strategy: 'sd', ts: 99, return: 0 })).rejects.toMatchObject({
      code: 1001,
    });
    expect(await stream()).toHaveLength(20);
    // A new connection is refused while the collector shuts down.
    await expect(SampleSocket.open({ url: srv.socketUrl })).rejects.toThrow(/HTTP 503/);
  });
});
