/**
 * The dashboards of bench/pipeline.ts: `clients` WebSocket clients of the
 * gateway, each subscribed as a desk overview is (every strategy, alerts,
 * system), in a process of their own. They count frames; the first also
 * records, for every score frame, the strategy, the sequence in the frame's
 * sample id (`<strategy index>:<sequence>`, set by the load) and when the
 * frame arrived, so the orchestrator can measure POST-to-frame latency.
 * IPC orders: `record` (start recording), `report`, `exit`.
 */
import WebSocket from 'ws';

export type DashboardsOrder = { type: 'record' } | { type: 'report' } | { type: 'exit' };
export interface DashboardsReport {
  type: 'report';
  connected: number;
  open: number;
  /** Frames per client since the start. */
  frames: number[];
  scoreFrames: number[];
  /** Flat [strategy index, sequence, arrival epoch ms] triples of client 0, since `record`. */
  arrivals: number[];
}

const url = process.argv[2]!;
const clients = Number(process.argv[3] ?? 10);
const frames = new Array<number>(clients).fill(0);
const scoreFrames = new Array<number>(clients).fill(0);
let arrivals: number[] = [];
let recording = false;
let connected = 0;
const sockets: WebSocket[] = [];

/** `"type":"score"` starts at byte 9 of every score frame (`{"type":"score",...`). */
const isScore = (d: Buffer): boolean => d[9] === 0x73 && d[10] === 0x63; // "sc"

function onFrame(k: number, d: Buffer): void {
  frames[k]!++;
  if (!isScore(d)) return;
  scoreFrames[k]!++;
  if (k !== 0 || !recording) return;
  const at = performance.timeOrigin + performance.now();
  const f = JSON.parse(d.toString('utf8')) as { data: { id: string } };
  const [s, q] = f.data.id.split(':').map(Number);
  if (Number.isFinite(s) && Number.isFinite(q)) arrivals.push(s!, q!, at);
}

await Promise.all(
  Array.from(
    { length: clients },
    (_, k) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.on('open', () => {
          connected++;
          ws.send(
            JSON.stringify({ type: 'subscribe', topics: ['strategy:*', 'alerts', 'system'] }),
          );
          resolve();
        });
        ws.on('message', (d: Buffer) => onFrame(k, d));
        ws.on('error', () => resolve());
        sockets.push(ws);
      }),
  ),
);
process.send?.({ type: 'ready', connected });

process.on('message', (o: DashboardsOrder) => {
  if (o.type === 'record') {
    arrivals = [];
    recording = true;
    process.send?.({ type: 'recording' });
  } else if (o.type === 'report') {
    recording = false;
    const r: DashboardsReport = {
      type: 'report',
      connected,
      open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
      frames,
      scoreFrames,
      arrivals,
    };
    process.send?.(r);
  } else {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
