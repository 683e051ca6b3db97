/**
 * HTTP/1.1 pipelining for the benchmarks: `depth` POSTs in flight on each
 * of `connections` keep-alive sockets (the next one is written as soon as
 * an answer arrives), which is how a trading system sending one sample per
 * request reaches high rates without one round trip per sample. Node's
 * http client does not pipeline, hence this small client over net.
 */
import { connect, type Socket } from 'node:net';
import { corkForTick } from '@quantmon/shared';

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

/** One pipelined run's counts and answer latencies (the HTTP and the socket clients share it). */
export class PipelinedTally {
  sent = 0;
  ok = 0;
  readonly byStatus: Record<number, number> = {};
  private readonly latencies: number[] = [];
  private readonly t0 = performance.now();
  /** When lanes stop sending. */
  readonly end: number;

  constructor(seconds: number) {
    this.end = this.t0 + seconds * 1000;
  }

  /** An answer: its status, the samples it says were taken, and when its request left. */
  answered(status: number, okSamples: number, sentAt: number): void {
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    this.ok += okSamples;
    this.latencies.push(performance.now() - sentAt);
  }

  /** Run one lane per connection until each has stopped. */
  async run(connections: number, lane: (conn: number) => Promise<void>): Promise<PipelinedResult> {
    await Promise.all(Array.from({ length: connections }, (_, c) => lane(c)));
    const sorted = Float64Array.from(this.latencies).sort();
    return {
      sent: this.sent,
      ok: this.ok,
      byStatus: this.byStatus,
      seconds: (performance.now() - this.t0) / 1000,
      latencyMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) },
    };
  }
}

export async function pipelinedPosts(o: PipelinedOptions): Promise<PipelinedResult> {
  const u = new URL(o.url);
  const head = (len: number): string =>
    `POST ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${len}\r\n\r\n`;
  const t = new PipelinedTally(o.seconds);

  const lane = (conn: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = connect(Number(u.port), u.hostname);
      socket.setNoDelay(true);
      const sentAt: number[] = [];
      let buf: Buffer = Buffer.alloc(0);
      // The sends one read of answers releases leave in one write (ws-cork.ts).
      const send = (): void => {
        const body = o.body(conn);
        corkForTick(socket);
        sentAt.push(performance.now());
        socket.write(head(Buffer.byteLength(body)) + body);
        t.sent++;
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
          let taken = 0;
          if (status === 202) {
            const r = JSON.parse(body) as { accepted: number; duplicates: number };
            taken = r.accepted + r.duplicates;
          }
          t.answered(status, taken, sentAt.shift()!);
          if (performance.now() < t.end) send();
          else if (sentAt.length === 0) socket.end();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });

  return t.run(o.connections, lane);
}
