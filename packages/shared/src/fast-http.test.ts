import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createRegistry } from './prom.js';
import { closeHttpServer, listeningPort, sendJsonBytes, startHttpServer } from './http-server.js';
import type { FastRoute } from './fast-http.js';

/**
 * The fast path in front of Node's HTTP server, over raw sockets: what a
 * client sees must be what Node alone would give it (answers in order,
 * keep-alive, close), whichever of the two answers each request.
 */

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Which server answered: the fast path writes `date` in lower case, Node `Date` or none. */
  by: 'fast' | 'node';
}

/** Reads answers off a raw socket (bodies with Content-Length, as both servers send them). */
class RawClient {
  private buf = Buffer.alloc(0);
  private readonly answers: Answer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.toString('latin1', 0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length < end + 4 + len) return;
      this.answers.push({
        status: Number(lines[0]!.split(' ')[1]),
        headers,
        body: this.buf.toString('utf8', end + 4, end + 4 + len),
        by: lines.some((l) => l.startsWith('date:')) ? 'fast' : 'node',
      });
      this.buf = this.buf.subarray(end + 4 + len);
    }
  }

  /** The next n answers (fails the test by timeout when they never come). */
  async take(n: number): Promise<Answer[]> {
    while (this.answers.length < n && !this.closed) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.answers.splice(0, n);
  }

  async untilClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }
}

const post = (path: string, body: string, extra = ''): string =>
  `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n${extra}` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const chunked = (path: string, body: string): string =>
  `POST ${path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n` +
  `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

/** Echo after `wait` ms (from the body): later requests can be ready first. */
const echoAfter = async (body: string): Promise<Buffer> => {
  const { wait = 0 } = JSON.parse(body) as { wait?: number };
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return Buffer.from(body);
};

describe('the fast path in front of Node’s HTTP server', () => {
  let server: Server;
  let port: number;
  let clients: RawClient[];
  let handOvers: string[];
  const open = async (): Promise<RawClient> => {
    const c = await RawClient.open(port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    clients = [];
    handOvers = [];
    const echo: FastRoute = {
      takes: (h) => h.method === 'POST' && h.target === '/echo',
      maxBytes: 100_000,
      answer: async (_, body) => {
        const text = body.toString('utf8');
        if (text === '"throw"') throw new Error('route failed');
        return { status: 202, body: await echoAfter(text), headers: { 'x-path': 'fast' } };
      },
    };
    // The same echo through a callback (FastRoute.answerTo): "throw" throws
    // before replying, "fail" replies with an error, "twice" replies twice.
    const echoTo: FastRoute = {
      takes: (h) => h.method === 'POST' && h.target === '/echo-cb',
      maxBytes: 100_000,
      answerTo: (_, body, reply) => {
        const text = body.toString('utf8');
        if (text === '"throw"') throw new Error('route failed');
        if (text === '"fail"') return reply(undefined, new Error('write failed'));
        if (text === '"twice"') {
          reply({ status: 202, body: Buffer.from('"first"') });
          return reply({ status: 202, body: Buffer.from('"second"') });
        }
        echoAfter(text).then(
          (b) => reply({ status: 202, body: b }),
          (err: unknown) => reply(undefined, err),
        );
      },
    };
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      log: createLogger('test', 'silent'),
      registry: createRegistry('test'),
      health: () => ({ ok: true }),
      fastRoutes: [echo, echoTo],
      onFastHandOver: (reason) => handOvers.push(reason),
      routes: [
        async (req, res, url) => {
          if (url.pathname !== '/echo') return false;
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          const body = Buffer.concat(chunks);
          if (body.length > 100_000) sendJsonBytes(res, 413, Buffer.from('{"error":"too long"}'));
          else sendJsonBytes(res, 202, await echoAfter(body.toString('utf8')));
          return true;
        },
      ],
    });
    port = listeningPort(server);
  });

  afterEach(async () => {
    for (const c of clients) c.socket.destroy();
    if (server.listening) await closeHttpServer(server); // the shutdown test closed its own
  });

  it('answers pipelined requests in request order, though later ones are ready first', async () => {
    const c = await open();
    const bodies = [30, 0, 15, 0, 5].map((wait, i) => JSON.stringify({ wait, i }));
    c.socket.write(bodies.map((b) => post('/echo', b)).join(''));
    const answers = await c.take(5);
    expect(answers.map((a) => a.body)).toEqual(bodies);
    expect(answers.every((a) => a.by === 'fast' && a.status === 202)).toBe(true);
    expect(answers[0]!.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'keep-alive': 'timeout=65',
      'x-path': 'fast',
    });
    expect(Date.parse(answers[0]!.headers.date!)).toBeGreaterThan(Date.now() - 5000);
  });

  it('reads a request however it is cut across packets', async () => {
    const c = await open();
    const text = post('/echo', '{"cut":true}') + post('/echo', '{"cut":2}');
    for (const byte of Buffer.from(text)) {
      c.socket.write(Buffer.of(byte));
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.take(2)).map((a) => [a.by, a.body])).toEqual([
      ['fast', '{"cut":true}'],
      ['fast', '{"cut":2}'],
    ]);
  });

  it('hands the connection to Node at the first request it does not take, after the answers before it', async () => {
    const c = await open();
    c.socket.write(
      post('/echo', '{"wait":20,"n":1}') +
        post('/echo', '{"n":2}') +
        get('/healthz') +
        post('/echo', '{"n":4}') +
        get('/nowhere'),
    );
    const answers = await c.take(5);
    expect(answers.map((a) => [a.status, a.by])).toEqual([
      [202, 'fast'],
      [202, 'fast'],
      [200, 'node'],
      [202, 'node'],
      [404, 'node'],
    ]);
    expect(answers[3]!.body).toBe('{"n":4}');
    expect(handOvers).toEqual(['other-request']);
    expect(JSON.parse(answers[2]!.body)).toMatchObject({ status: 'ok' });
    // The connection stays open and Node's from now on.
    c.socket.write(post('/echo', '{"n":6}'));
    expect((await c.take(1))[0]).toMatchObject({ status: 202, by: 'node', body: '{"n":6}' });
  });

  it.each([
    ['a chunked body', chunked('/echo', '{"chunked":1}'), 202, 'not-plain'],
    ['a malformed header', post('/echo', '{}', 'X-Bad : 1\r\n'), 400, 'not-plain'],
    [
      'a body over the route’s limit',
      post('/echo', JSON.stringify({ pad: 'x'.repeat(200_000) })),
      413,
      'over-limit',
    ],
  ])('leaves %s to Node, which answers it as it would alone', async (_, text, status, reason) => {
    const c = await open();
    c.socket.write(post('/echo', '{"first":1}') + text);
    const answers = await c.take(2);
    expect(answers.map((a) => [a.status, a.by])).toEqual([
      [202, 'fast'],
      [status, 'node'],
    ]);
    expect(handOvers).toEqual([reason]);
  });

  it('reads a large body arriving in many packets, then the request after it', async () => {
    const c = await open();
    const big = JSON.stringify({ pad: 'y'.repeat(90_000) });
    const text = Buffer.from(post('/echo', big) + post('/echo', '{"after":1}'));
    for (let i = 0; i < text.length; i += 1000) {
      c.socket.write(text.subarray(i, i + 1000));
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.take(2)).map((a) => [a.by, a.body.length])).toEqual([
      ['fast', big.length],
      ['fast', 11],
    ]);
  });

  it('closes a connection whose head trickles in past headersTimeout, or its body past requestTimeout', async () => {
    server.headersTimeout = 150;
    server.requestTimeout = 400;
    const text = post('/echo', '{"slow":1}');
    const head = text.indexOf('\r\n\r\n') + 4;
    const c = await open();
    c.socket.write(text.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));
    c.socket.write(text.slice(10, 20));
    await c.untilClosed();
    // The head whole and the body trickling: past headersTimeout, within requestTimeout.
    const body = await open();
    body.socket.write(text.slice(0, head + 2));
    await new Promise((r) => setTimeout(r, 200));
    body.socket.write(text.slice(head + 2, head + 4));
    await new Promise((r) => setTimeout(r, 20));
    expect(body.closed).toBe(false);
    await new Promise((r) => setTimeout(r, 250));
    body.socket.write(text.slice(head + 4, head + 6));
    await body.untilClosed();
    // A connection that keeps completing requests is judged by the request now
    // arriving, though a part of the next one is always waiting.
    const busy = await open();
    busy.socket.write(text.slice(0, 10));
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 40));
      busy.socket.write(text.slice(10) + text.slice(0, 10));
      await busy.take(1);
    }
    expect(busy.closed).toBe(false);
  });

  it('answers 500 when the route throws, and the connection goes on', async () => {
    const c = await open();
    c.socket.write(post('/echo', '"throw"') + post('/echo', '{"after":1}'));
    const answers = await c.take(2);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [500, '{"error":"internal error"}'],
      [202, '{"after":1}'],
    ]);
  });

  it('answers a callback route in request order, once each; a throw or an error is a 500', async () => {
    const c = await open();
    const bodies = [20, 0, 10].map((wait, i) => JSON.stringify({ wait, i }));
    const sent = [bodies[0]!, '"throw"', bodies[1]!, '"fail"', '"twice"', bodies[2]!];
    c.socket.write(sent.map((b) => post('/echo-cb', b)).join(''));
    const answers = await c.take(6);
    expect(answers.map((a) => [a.status, a.body, a.by])).toEqual([
      [202, bodies[0], 'fast'],
      [500, '{"error":"internal error"}', 'fast'],
      [202, bodies[1], 'fast'],
      [500, '{"error":"internal error"}', 'fast'],
      [202, '"first"', 'fast'],
      [202, bodies[2], 'fast'],
    ]);
    // The second reply of "twice" was dropped: nothing more arrives.
    c.socket.write(post('/echo-cb', '{"after":1}'));
    expect((await c.take(1)).map((a) => a.body)).toEqual(['{"after":1}']);
  });

  it('closes after answering a Connection: close request, reading nothing after it', async () => {
    const c = await open();
    c.socket.write(
      post('/echo', '{"n":1}') +
        post('/echo', '{"wait":10,"n":2}', 'Connection: close\r\n') +
        post('/echo', '{"n":3}'),
    );
    const answers = await c.take(3);
    await c.untilClosed();
    expect(answers.map((a) => [a.body, a.headers.connection])).toEqual([
      ['{"n":1}', 'keep-alive'],
      ['{"wait":10,"n":2}', 'close'],
    ]);
  });

  it('answers everything a client sent before half-closing, then closes', async () => {
    const c = await open();
    const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify({ wait: i % 3, i }));
    c.socket.end(bodies.map((b) => post('/echo', b)).join(''));
    const answers = await c.take(20);
    await c.untilClosed();
    expect(answers.map((a) => a.body)).toEqual(bodies);
  });

  it('after a half-close answers what it took and closes, where Node alone answers nothing', async () => {
    // Node's server aborts the requests of a connection whose client has
    // half-closed (httpAllowHalfOpen is false) and answers none of them.
    const c = await open();
    c.socket.end(post('/echo', '{"wait":20}') + get('/healthz') + post('/echo', '{"n":3}'));
    const answers = await c.take(3);
    await c.untilClosed();
    expect(answers.map((a) => [a.status, a.by])).toEqual([[202, 'fast']]);
  });

  it('answers a deep pipeline in order, pausing past its limit of unanswered requests', async () => {
    const c = await open();
    const bodies = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ wait: i % 2, i }));
    c.socket.write(bodies.map((b) => post('/echo', b)).join(''));
    const answers = await c.take(1500);
    expect(answers.map((a) => a.body)).toEqual(bodies);
  });

  it('at shutdown closes idle connections and lets a busy one finish its answer', async () => {
    const idle = await open();
    idle.socket.write(post('/echo', '{"n":1}'));
    await idle.take(1);
    const busy = await open();
    busy.socket.write(post('/echo', '{"wait":100}'));
    await new Promise((r) => setTimeout(r, 20));
    const closed = closeHttpServer(server);
    const [answer] = await busy.take(1);
    expect(answer).toMatchObject({ status: 202, body: '{"wait":100}' });
    expect(answer!.headers.connection).toBe('close');
    await Promise.all([idle.untilClosed(), busy.untilClosed(), closed]);
    expect(server.listening).toBe(false);
  });
});
