import { keysFor, type ScoreUpdate } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreUpdate } from '../helpers/gateway-fixtures.js';
import { PartitionedFeed } from '../helpers/gateway-partitions.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';
import { TestWsClient } from '../helpers/ws-client.js';

/** One WebSocket frame as it crossed the wire. */
interface WireFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/**
 * A bare WebSocket client over a TCP socket, so the test sees the frames
 * themselves (a WebSocket library would join fragments into one message).
 */
class WireClient {
  private buf = Buffer.alloc(0);
  private upgraded = false;
  readonly frames: WireFrame[] = [];

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => this.onData(d));
  }

  static async open(port: number): Promise<WireClient> {
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const c = new WireClient(sock);
    sock.write(
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    return c;
  }

  /** A masked text frame, as a client must send. */
  sendText(text: string): void {
    const payload = Buffer.from(text);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    const len = payload.length;
    const head =
      len < 126
        ? Buffer.from([0x81, 0x80 | len])
        : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
    this.sock.write(Buffer.concat([head, mask, masked]));
  }

  async until(done: (frames: WireFrame[]) => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!done(this.frames)) {
      if (Date.now() > end) throw new Error(`timed out with ${this.frames.length} frames`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      expect(this.buf.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
      this.buf = this.buf.subarray(end + 4);
      this.upgraded = true;
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const len7 = this.buf[1]! & 0x7f;
      const headLen = len7 === 127 ? 10 : len7 === 126 ? 4 : 2;
      if (this.buf.length < headLen) return;
      const len =
        len7 === 127
          ? Number(this.buf.readBigUInt64BE(2))
          : len7 === 126
            ? this.buf.readUInt16BE(2)
            : len7;
      if (this.buf.length < headLen + len) return;
      this.frames.push({
        fin: (this.buf[0]! & 0x80) !== 0,
        opcode: this.buf[0]! & 0x0f,
        payload: this.buf.subarray(headLen, headLen + len),
      });
      this.buf = this.buf.subarray(headLen + len);
    }
  }
}

/**
 * A desk-sized state (hundreds of strategies) through a real gateway: the
 * snapshot of `strategy:*` goes out as one fragmented message of small
 * frames and /api/summary as a chunked body, and both are still exactly
 * the documents they were (every strategy, sorted, valid JSON).
 */
describe('gateway: large snapshots and summaries in pieces', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let gateway: RunningService;
  const prefix = uniquePrefix('gwl');
  const keys = keysFor(prefix);
  const N = 400;
  const P = 2;
  const ids = Array.from({ length: N }, (_, i) => `big-${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    const feed = new PartitionedFeed(redis, keys, P);
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(P),
    });
    // Newest last, in reverse name order: the summary must sort them.
    for (const id of [...ids].reverse()) await feed.score(scoreUpdate(id, 1));
    const base = `http://127.0.0.1:${gateway.port}`;
    const end = Date.now() + 10_000;
    for (;;) {
      const s = (await (await fetch(`${base}/api/summary`)).json()) as { strategies: unknown[] };
      if (s.strategies.length === N) break;
      if (Date.now() > end) throw new Error(`gateway has ${s.strategies.length} of ${N}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    const code = await gateway?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    expect(code).toBe(0);
  });

  it('sends the strategy:* snapshot as continuation frames that join into one snapshot', async () => {
    const c = await WireClient.open(gateway.port);
    await c.until((f) => f.length >= 1); // hello
    c.sendText(JSON.stringify({ type: 'subscribe', topics: ['strategy:*'] }));
    await c.until((f) => f.some((x) => x.opcode === 0 && x.fin));
    const start = c.frames.findIndex((x) => x.opcode === 1 && !x.fin);
    const end = c.frames.findIndex((x) => x.opcode === 0 && x.fin);
    expect(start).toBeGreaterThan(0);
    const parts = c.frames.slice(start, end + 1);
    // Several small frames, none of them the whole document.
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.slice(1).every((x) => x.opcode === 0)).toBe(true);
    const total = parts.reduce((n, x) => n + x.payload.length, 0);
    for (const x of parts) expect(x.payload.length).toBeLessThan(total / 2);
    const snap = JSON.parse(Buffer.concat(parts.map((x) => x.payload)).toString()) as {
      type: string;
      topic: string;
      scores: ScoreUpdate[];
      positions: { scores: Record<string, string> };
    };
    expect(snap).toMatchObject({ type: 'snapshot', topic: 'strategy:*' });
    expect(snap.scores.map((s) => s.strategy).sort()).toEqual(ids);
    expect(Object.keys(snap.positions.scores)).toHaveLength(P);
    c.close();
  });

  it('gives a WebSocket library one snapshot message, and live frames after it', async () => {
    const c = await TestWsClient.connect(`ws://127.0.0.1:${gateway.port}/ws`);
    await c.waitFor((f) => f.type === 'hello');
    c.send({ type: 'subscribe', topics: ['strategy:*'] });
    const snap = await c.waitFor((f) => f.type === 'snapshot');
    expect(snap.type === 'snapshot' && snap.scores?.length).toBe(N);
    const feed = new PartitionedFeed(redis, keys, P);
    await feed.score(scoreUpdate('big-0007', 2));
    await c.waitFor((f) => f.type === 'score' && f.data.id === 'big-0007-2');
    c.close();
  });

  it('streams /api/summary and /api/strategies, sorted, as valid JSON', async () => {
    const base = `http://127.0.0.1:${gateway.port}`;
    const res = await fetch(`${base}/api/summary`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as {
      ts: number;
      strategies: ScoreUpdate[];
      system: unknown[];
      activeAlerts: unknown[];
    };
    expect(Object.keys(body)).toEqual(['ts', 'strategies', 'system', 'activeAlerts']);
    expect(body.strategies.map((s) => s.strategy)).toEqual(ids);
    const list = (await (await fetch(`${base}/api/strategies`)).json()) as {
      strategies: { strategy: string }[];
    };
    expect(list.strategies.map((s) => s.strategy)).toEqual(ids);
  });
});
