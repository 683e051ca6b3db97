/**
 * The dashboards of bench/pipeline.ts: `clients` WebSocket clients of the
 * gateway, each subscribed as a desk overview is (every strategy, alerts,
 * system, without score updates' span unless argv[4] is `full`), in a
 * process of their own. They count frames; the first also
 * records, for every score frame, the strategy, the sequence in the frame's
 * sample id (`<strategy index>:<sequence>`, set by the load) and when the
 * frame arrived, so the orchestrator can measure POST-to-frame latency.
 * IPC orders: `record` (start recording), `report`, `positions` (the last
 * score entry client 0 saw per partition: has it caught up?), `exit`.
 */
import WebSocket from 'ws';

export type DashboardsOrder =
  { type: 'record' } | { type: 'report' } | { type: 'positions' } | { type: 'exit' };
export interface DashboardsReport {
  type: 'report';
  connected: number;
  open: number;
  /** Frames per client since the start. */
  frames: number[];
  scoreFrames: number[];
  /**
   * Client 0's score frames since `record`, flat: strategy index, sequence,
   * arrival, the update's receivedAt and computedAt, its entry's write ms.
   */
  arrivals: number[];
}

const url = process.argv[2]!;
const clients = Number(process.argv[3] ?? 10);
/** `lean`: without score updates' span, as the dashboard subscribes; `full`: with it. */
const lean = (process.argv[4] ?? 'lean') === 'lean';
/**
 * Subscribe's `intervalMs` for every client but the first (0: every frame
 * as it comes): paced screens. The first, which records the latency, is
 * never paced.
 */
const pacedMs = Number(process.argv[5] ?? 0);
const frames = new Array<number>(clients).fill(0);
const scoreFrames = new Array<number>(clients).fill(0);
let arrivals: number[] = [];
let recording = false;
let connected = 0;
/** Client 0's newest score entry per partition. */
const lastPos: Record<number, string> = {};
const sockets: WebSocket[] = [];

/** `"type":"score"` starts at byte 9 of every score frame (`{"type":"score",...`). */
const isScore = (d: Buffer): boolean => d[9] === 0x73 && d[10] === 0x63; // "sc"

function onFrame(k: number, d: Buffer): void {
  frames[k]!++;
  if (!isScore(d)) return;
  scoreFrames[k]!++;
  if (k !== 0) return;
  const at = performance.timeOrigin + performance.now();
  const f = JSON.parse(d.toString('utf8')) as {
    pos: string;
    part?: number;
    data: { id: string; receivedAt: number; computedAt: number };
  };
  lastPos[f.part ?? 0] = f.pos;
  if (!recording) return;
  const [s, q] = f.data.id.split(':').map(Number);
  if (Number.isFinite(s) && Number.isFinite(q)) {
    // The stages: accepted by the collector, computed by the scorer, written (the entry id's ms).
    arrivals.push(s!, q!, at, f.data.receivedAt, f.data.computedAt, Number(f.pos.split('-')[0]));
  }
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
            JSON.stringify({
              type: 'subscribe',
              topics: ['strategy:*', 'alerts', 'system'],
              ...(lean ? { omit: ['span'] } : {}),
              ...(k > 0 && pacedMs > 0 ? { intervalMs: pacedMs } : {}),
            }),
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
  } else if (o.type === 'positions') {
    process.send?.({ type: 'positions', positions: lastPos });
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
