import { createServer, request, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listeningPort, sendJsonPieces } from './http-server.js';

/**
 * sendJsonPieces over a real socket: the body arrives whole and chunked,
 * and a client that goes away stops the writer (the rest of a large
 * document is never produced).
 */
describe('sendJsonPieces', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function serve(pieces: () => Iterable<string>, done: (n: number) => void): Promise<number> {
    server = createServer((_req, res) => {
      let pulled = 0;
      const counted = function* (): Generator<string> {
        for (const p of pieces()) {
          pulled++;
          yield p;
        }
      };
      void sendJsonPieces(res, 200, counted()).then(() => done(pulled));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return listeningPort(server);
  }

  it('sends every piece in order as one chunked JSON body', async () => {
    const items = Array.from({ length: 50 }, (_, i) => `{"i":${i}}`);
    let pulled = -1;
    const port = await serve(
      function* () {
        yield '{"items":[';
        for (let i = 0; i < items.length; i++) yield (i ? ',' : '') + items[i];
        yield ']}';
      },
      (n) => (pulled = n),
    );
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(50);
    await expect.poll(() => pulled).toBe(52);
  });

  it('stops producing pieces when the client goes away', async () => {
    const piece = 'x'.repeat(64 * 1024);
    const total = 2000; // 128 MiB if it were all produced
    let pulled = -1;
    const port = await serve(
      function* () {
        for (let i = 0; i < total; i++) yield piece;
      },
      (n) => (pulled = n),
    );
    await new Promise<void>((resolve) => {
      const req = request({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.once('data', () => {
          // Read one chunk, then leave without reading the rest.
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await expect.poll(() => pulled, { timeout: 5000 }).toBeGreaterThan(0);
    // Kernel and stream buffers take some pieces before backpressure; never all of them.
    expect(pulled).toBeLessThan(total / 4);
  });
});
