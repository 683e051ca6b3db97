/**
 * The collector's ingest socket for the benchmarks: `depth` messages in
 * flight on each of `connections` WebSocket connections (the next one is
 * sent as soon as an answer arrives), the socket counterpart of
 * http-pipelined.ts, with the same result shape. Answers are counted from
 * their text, not validated: the bench's own CPU shares the machine with
 * the pipeline it measures (the tests validate the answers).
 */
import { WebSocket } from 'ws';
import type { PipelinedOptions, PipelinedResult } from './http-pipelined.js';

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

const STATUS = /"status":(\d+)/;
const COUNTED = /"accepted":(\d+),"duplicates":(\d+)/;

export async function pipelinedMessages(o: PipelinedOptions): Promise<PipelinedResult> {
  const byStatus: Record<number, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;

  const lane = (conn: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(o.url, { perMessageDeflate: false });
      const sentAt: number[] = [];
      const send = (): void => {
        sentAt.push(performance.now());
        ws.send(o.body(conn));
        sent++;
      };
      ws.on('open', () => {
        for (let i = 0; i < o.depth; i++) send();
      });
      ws.on('message', (data) => {
        const text = String(data);
        const status = Number(STATUS.exec(text)?.[1] ?? 0);
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (status === 202) {
          const m = COUNTED.exec(text);
          ok += Number(m?.[1] ?? 0) + Number(m?.[2] ?? 0);
        }
        latencies.push(performance.now() - sentAt.shift()!);
        if (performance.now() < end) send();
        else if (sentAt.length === 0) ws.close(1000);
      });
      ws.on('error', reject);
      ws.on('close', () => resolve());
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
