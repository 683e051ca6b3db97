import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHead } from '../../packages/shared/src/http1-head.js';
import { mulberry32 } from '../../services/scorer/src/metrics/testing/seeded-series.js';

/**
 * The fast path's parser must never take a request that Node's own parser
 * would refuse or read differently: a request read one way by the fast
 * path and another by Node is how request smuggling starts. Heads made by
 * mutating a plain POST at random (a seeded generator, so every run tries
 * the same ones): whenever parseHead takes one as a POST to the route's
 * path, a plain Node server must take it too, with the same method, target
 * and body length.
 */

const BASE =
  'POST /v1/samples HTTP/1.1\r\nHost: localhost:8081\r\nContent-Type: application/json\r\n' +
  'Authorization: Bearer tok\r\nConnection: keep-alive\r\nContent-Length: 7\r\n\r\n';
const BODY = '{"a":1}';
/** Bytes that matter to an HTTP head's grammar, and a few that do not. */
const PALETTE = [
  ' ',
  '\t',
  ':',
  '\r',
  '\n',
  '\r\n',
  '\x00',
  '\x7f',
  '\x85',
  'a',
  'Z',
  '-',
  ',',
  '0',
  '9',
  '/',
  '"',
];

function mutate(rand: () => number): string {
  let head = BASE.slice(0, -4); // without the blank line; mutations stay in the head
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * head.length);
    const kind = rand();
    if (kind < 0.45) {
      head = head.slice(0, at) + PALETTE[Math.floor(rand() * PALETTE.length)]! + head.slice(at);
    } else if (kind < 0.8) {
      head = head.slice(0, at) + head.slice(at + 1);
    } else {
      // Repeat a whole line (a second Content-Length, Host, ...).
      const lines = head.split('\r\n');
      const i = 1 + Math.floor(rand() * (lines.length - 1));
      lines.splice(i, 0, lines[i]!);
      head = lines.join('\r\n');
    }
  }
  return `${head}\r\n\r\n${BODY}`;
}

interface NodeRead {
  status: number;
  method?: string;
  url?: string;
  bodyLength?: number;
}

describe('parseHead against Node’s own parser', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          bodyLength: Buffer.concat(chunks).length,
        });
        res.writeHead(200, { 'content-length': Buffer.byteLength(body), connection: 'close' });
        res.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  /** What Node makes of the request: its status, and what it read when it took it. */
  const nodeReads = (text: string): Promise<NodeRead> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.from(text, 'latin1')));
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => {
        const status = Number(out.slice(9, 12));
        const body = out.slice(out.indexOf('\r\n\r\n') + 4);
        resolve(status === 200 ? { status, ...(JSON.parse(body) as object) } : { status });
      });
    });

  it('takes no mutated head that Node refuses or reads otherwise', async () => {
    const rand = mulberry32(20261204);
    let taken = 0;
    let declined = 0;
    for (let n = 0; n < 400; n++) {
      const text = mutate(rand);
      const head = parseHead(Buffer.from(text, 'latin1'), 0);
      if (
        typeof head === 'string' ||
        head.method !== 'POST' ||
        head.target !== '/v1/samples' ||
        head.contentLength > 1 << 16
      ) {
        declined++;
        continue;
      }
      taken++;
      // A mutated Content-Length gets a body of its length: both parsers then see a whole request.
      const whole = text.slice(0, head.length) + 'x'.repeat(head.contentLength);
      const node = await nodeReads(whole);
      expect({ text: whole, ...node }).toEqual({
        text: whole,
        status: 200,
        method: 'POST',
        url: '/v1/samples',
        bodyLength: head.contentLength,
      });
    }
    // Both outcomes were exercised: the mutations are neither all harmless nor all fatal.
    expect(taken).toBeGreaterThan(50);
    expect(declined).toBeGreaterThan(50);
  });
});
