/**
 * The collector's ingest socket for the benchmarks: `depth` messages in
 * flight on each of `connections` WebSocket connections (the next one is
 * sent as soon as an answer arrives), the socket counterpart of
 * http-pipelined.ts, with the same result shape. Answers are counted from
 * their text, not validated: the bench's own CPU shares the machine with
 * the pipeline it measures (the tests validate the answers).
 */
import { corkForTick, wsSocket } from '@quantmon/shared';
import { WebSocket } from 'ws';
import { PipelinedTally, type PipelinedOptions, type PipelinedResult } from './http-pipelined.js';

const STATUS = /"status":(\d+)/;
const COUNTED = /"accepted":(\d+),"duplicates":(\d+)/;

export function pipelinedMessages(o: PipelinedOptions): Promise<PipelinedResult> {
  const t = new PipelinedTally(o.seconds);
  const lane = (conn: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(o.url, { perMessageDeflate: false });
      const sentAt: number[] = [];
      // One read of answers releases many sends: they leave in one socket
      // write, as SampleSocket's do (ws-cork.ts).
      const send = (): void => {
        corkForTick(wsSocket(ws));
        sentAt.push(performance.now());
        ws.send(o.body(conn));
        t.sent++;
      };
      ws.on('open', () => {
        for (let i = 0; i < o.depth; i++) send();
      });
      ws.on('message', (data) => {
        const text = String(data);
        const status = Number(STATUS.exec(text)?.[1] ?? 0);
        const m = status === 202 ? COUNTED.exec(text) : null;
        t.answered(status, Number(m?.[1] ?? 0) + Number(m?.[2] ?? 0), sentAt.shift()!);
        if (performance.now() < t.end) send();
        else if (sentAt.length === 0) ws.close(1000);
      });
      ws.on('error', reject);
      ws.on('close', () => resolve());
    });
  return t.run(o.connections, lane);
}
