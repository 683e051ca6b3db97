import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openSocket, postText, readAnswers } from '../../../test/helpers/http-pipelining.js';
import { until } from '../../../test/helpers/streams.js';
import { closeHttpServer, listeningPort, sendJson, startHttpServer } from './http-server.js';
import { createLogger } from './logger.js';
import { coalesceWrites, HOLD_BYTES } from './pipelined-answers.js';
import { createRegistry } from './prom.js';

/**
 * The hold alone, on a stand-in socket whose kernel takes a write only when
 * the test says so: batching per turn, order, the HOLD_BYTES bound,
 * closing after the held bytes, and a failed write.
 */
describe('coalesceWrites', () => {
  type Done = (err?: Error | null) => void;
  interface Entry {
    chunk: Buffer | string;
    encoding: string;
  }
  function standIn() {
    const batches: string[][] = [];
    const pending: Done[] = [];
    const events: string[] = [];
    const socket = {
      _write: (): void => {
        throw new Error('the hold writes with _writev');
      },
      _writev(entries: Entry[], cb: Done): void {
        batches.push(entries.map((e) => String(e.chunk)));
        pending.push(cb);
      },
      _final(cb: Done): void {
        events.push('final');
        cb();
      },
      destroy(err?: Error): void {
        events.push(`destroy: ${err?.message}`);
      },
      _destroy(err: Error | null, cb: Done): void {
        events.push(`closed after ${batches.length} write(s)`);
        cb(err);
      },
    };
    coalesceWrites(socket as never);
    const s = socket as unknown as {
      _write(chunk: string, enc: string, cb: Done): void;
      _writev(entries: Entry[], cb: Done): void;
      _final(cb: Done): void;
      _destroy(err: Error | null, cb: Done): void;
    };
    /** The stand-in kernel takes the oldest write handed to it. */
    const complete = (err?: Error): void => pending.shift()!(err);
    return { s, batches, events, complete };
  }
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('acknowledges at once and writes one batch per turn, in order', async () => {
    const { s, batches } = standIn();
    const acked: string[] = [];
    s._write('a', 'utf8', () => acked.push('a'));
    s._writev(
      [
        { chunk: 'b', encoding: 'utf8' },
        { chunk: Buffer.from('c'), encoding: 'buffer' },
      ],
      () => acked.push('bc'),
    );
    expect(acked).toEqual(['a', 'bc']);
    expect(batches).toEqual([]);
    await turn();
    expect(batches).toEqual([['a', 'b', 'c']]);
    s._write('d', 'utf8', () => {});
    await turn();
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('past HOLD_BYTES, a write is acknowledged only once the kernel took it', async () => {
    const { s, complete } = standIn();
    const half = 'x'.repeat(HOLD_BYTES / 2);
    const acked: number[] = [];
    s._write(half, 'utf8', () => acked.push(1));
    s._write(half, 'utf8', () => acked.push(2)); // exactly HOLD_BYTES: still at once
    s._write('y', 'utf8', () => acked.push(3));
    expect(acked).toEqual([1, 2]);
    await turn(); // handed to the kernel, not yet taken
    s._write('z', 'utf8', () => acked.push(4)); // HOLD_BYTES still being written
    expect(acked).toEqual([1, 2]);
    complete();
    expect(acked).toEqual([1, 2, 3]);
    await turn();
    complete();
    expect(acked).toEqual([1, 2, 3, 4]);
  });

  it('shuts the socket only after what it holds is written', async () => {
    const { s, batches, events, complete } = standIn();
    s._write('last answer', 'utf8', () => {});
    let ended = false;
    s._final(() => (ended = true));
    expect(batches).toEqual([['last answer']]); // flushed at once, not at the end of the turn
    expect(events).toEqual([]);
    complete();
    expect(events).toEqual(['final']);
    expect(ended).toBe(true);
  });

  it('hands the kernel what it holds when the socket is destroyed within the turn', () => {
    const { s, batches, events } = standIn();
    s._write('answer', 'utf8', () => {});
    s._destroy(null, () => {});
    expect(batches).toEqual([['answer']]);
    expect(events).toEqual(['closed after 1 write(s)']);
  });

  it('destroys the socket with the error of a failed write', async () => {
    const { s, events, complete } = standIn();
    s._write('x'.repeat(HOLD_BYTES + 1), 'utf8', (err) => events.push(`cb: ${err?.message}`));
    await turn();
    complete(new Error('EPIPE'));
    expect(events).toEqual(['destroy: EPIPE', 'cb: EPIPE']);
  });
});

/**
 * The shared HTTP server over raw sockets: the answers of pipelined
 * requests leave in one write per turn, in order, without giving up
 * backpressure or the last bytes before a close; a client that waits for
 * each answer is left alone. Writes are counted on the server's socket.
 */
describe('pipelined answers', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await closeHttpServer(server);
    server = undefined;
  });

  /** Socket writes (system calls handed to the socket) made by the server, per connection. */
  const writes: number[] = [];

  async function serve(
    handler: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>,
  ): Promise<number> {
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      log: createLogger('test', 'silent'),
      registry: createRegistry('test'),
      health: () => ({}),
      routes: [
        async (req, res, url) => {
          await handler(req, res, url);
          return true;
        },
      ],
    });
    writes.length = 0;
    server.on('connection', (socket: Socket) => {
      // Wrapped before any request, so the coalescer (installed later) writes through these.
      const n = writes.push(0) - 1;
      const impl = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
      for (const name of ['_write', '_writev'] as const) {
        const real = impl[name].bind(socket);
        impl[name] = (...a: unknown[]) => {
          writes[n]!++;
          real(...a);
        };
      }
    });
    return listeningPort(server);
  }

  /** Answer each POST after a turn of the event loop, as the collector answers after its write. */
  const echoLater = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    await new Promise((r) => setImmediate(r));
    sendJson(res, 202, { echo: body });
  };

  const post = (i: number, extra = ''): string => postText('/p', String(i), extra);

  it('writes the answers of 16 pipelined requests together, in order', async () => {
    const socket = await openSocket(await serve(echoLater));
    const got = readAnswers(socket);
    socket.write(Array.from({ length: 16 }, (_, i) => post(i)).join(''));
    await until(() => got.length === 16, '16 answers');
    expect(got.map((a) => a.status)).toEqual(Array(16).fill(202));
    expect(got.map((a) => JSON.parse(a.body).echo)).toEqual(
      Array.from({ length: 16 }, (_, i) => String(i)),
    );
    // Node alone makes one write per answer (16); held, the first answer
    // leaves alone at most (it was not yet known to be pipelined).
    expect(writes[0]).toBeLessThanOrEqual(2);
    socket.destroy();
  });

  it('leaves a client that waits for each answer alone: one write per answer', async () => {
    const socket = await openSocket(await serve(echoLater));
    const got = readAnswers(socket);
    for (let i = 0; i < 5; i++) {
      socket.write(post(i));
      await until(() => got.length === i + 1, `answer ${i}`);
    }
    expect(writes[0]).toBe(5);
    socket.destroy();
  });

  it('writes what it holds before closing on `connection: close`', async () => {
    const socket = await openSocket(await serve(echoLater));
    const got = readAnswers(socket);
    const closed = new Promise((r) => socket.once('end', r));
    socket.write(
      Array.from({ length: 8 }, (_, i) => post(i, i === 7 ? 'connection: close\r\n' : '')).join(''),
    );
    await closed;
    expect(got.map((a) => JSON.parse(a.body).echo)).toEqual(
      Array.from({ length: 8 }, (_, i) => String(i)),
    );
  });

  it('sends a large answer whole to a pipelining client that reads late', async () => {
    const big = 'x'.repeat(HOLD_BYTES);
    let written = 0;
    const port = await serve(async (req, res, url) => {
      for await (const chunk of req) void chunk; // read the body
      if (url.pathname !== '/big') return sendJson(res, 202, { small: true });
      await new Promise((r) => setImmediate(r));
      res.writeHead(200, { 'content-length': 256 * big.length });
      for (let i = 0; i < 256; i++) {
        written++;
        if (!res.write(big)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    });
    const socket = await openSocket(port);
    socket.pause(); // a reader that does not read yet
    socket.write(
      post(1) + `GET /big HTTP/1.1\r\nhost: x\r\n\r\n` + post(2), // /big is pipelined behind /p
    );
    await until(() => written > 1, 'the server to write while nothing is read');
    const got = readAnswers(socket); // now read everything
    socket.resume();
    await until(() => got.length === 3, '3 answers');
    expect(got.map((a) => a.status)).toEqual([202, 200, 202]);
    expect(got[1]!.body).toBe(big.repeat(256));
    socket.destroy();
  });
});
