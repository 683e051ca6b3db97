/**
 * HTTP/1.1 pipelining for the benchmarks: `depth` POSTs in flight on each
 * of `connections` keep-alive sockets (the next one is written as soon as
 * an answer arrives), which is how a trading system sending one sample per
 * request reaches high rates without one round trip per sample. Node's
 * http client does not pipeline, hence this small client over net.
 */
import { connect, type Socket } from 'node:net';

export interface PipelinedOptions {
  url: string;
  connections: number;
  depth: number;
  seconds: number;
  /** The next request body for connection `conn`. */
  body: (conn: number) => string;
}

export interface PipelinedResult {
  sent: number;
  /** Samples the 202 bodies say were accepted (or were duplicates of accepted ones). */
  ok: number;
  byStatus: Record<number, number>;
  seconds: number;
  latencyMs: { p50: number; p99: number };
}

const HEADER_END = Buffer.from('\r\n\r\n');

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export async function pipelinedPosts(o: PipelinedOptions): Promise<PipelinedResult> {
  const u = new URL(o.url);
  const head = (len: number): string =>
    `POST ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${len}\r\n\r\n`;
  const byStatus: Record<number, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;

  const lane = (conn: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = connect(Number(u.port), u.hostname);
      socket.setNoDelay(true);
      const sentAt: number[] = [];
      let buf: Buffer = Buffer.alloc(0);
      const send = (): void => {
        const body = o.body(conn);
        sentAt.push(performance.now());
        socket.write(head(Buffer.byteLength(body)) + body);
        sent++;
      };
      socket.on('connect', () => {
        for (let i = 0; i < o.depth; i++) send();
      });
      socket.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const h = buf.indexOf(HEADER_END);
          if (h < 0) break;
          const headers = buf.subarray(0, h).toString('latin1');
          const m = /content-length:\s*(\d+)/i.exec(headers);
          const len = m ? Number(m[1]) : 0;
          if (buf.length < h + 4 + len) break;
          const status = Number(headers.slice(9, 12));
          const body = buf.subarray(h + 4, h + 4 + len).toString('utf8');
          buf = buf.subarray(h + 4 + len);
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          if (status === 202) {
            const r = JSON.parse(body) as { accepted: number; duplicates: number };
            ok += r.accepted + r.duplicates;
          }
          latencies.push(performance.now() - sentAt.shift()!);
          if (performance.now() < end) send();
          else if (sentAt.length === 0) socket.end();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });

  await Promise.all(Array.from({ length: o.connections }, (_, c) => lane(c)));
  const sorted = Float64Array.from(latencies).sort();
  return {
    sent,
    ok,
    byStatus,
    seconds: (performance.now() - t0) / 1000,
    latencyMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) },
  };
}
