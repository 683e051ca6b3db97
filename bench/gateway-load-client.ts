/**
 * Load side of `npm run bench:gateway`: holds N WebSocket clients to one
 * gateway, each subscribed to `alerts`, `system` and one strategy, and
 * measures for every data frame the delay from its write to Redis (the
 * entry's `ts`, set by the writer just before XADD) to its arrival here.
 * Runs as its own process; talks to the orchestrator with JSON lines:
 * stdout `ready` / `report`, stdin `measure <fromMs>` / `report` / `exit`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080/ws' },
    clients: { type: 'string', default: '1000' },
    strategies: { type: 'string', default: '50' },
  },
});
const N = Number(args.clients);
const STRATEGIES = Number(args.strategies);

const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

// Latency histogram in whole milliseconds (the entries carry epoch ms).
const hist = new Uint32Array(60_001);
let from = Number.POSITIVE_INFINITY;
let frames = 0;
let measured = 0;
let closed = 0;
const sockets: WebSocket[] = [];
// How late this process's own event loop runs: latency it adds to the figure.
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

const DATA_TYPES = new Set(['a', 's']); // "alert", "score", "system": '{"type":"' is 9 bytes
const TS = Buffer.from('"ts":');

/** Cheap on purpose (the load side must not be the bottleneck): no string, no JSON.parse. */
function onMessage(data: WebSocket.RawData): void {
  frames++;
  if (!Buffer.isBuffer(data)) return;
  if (!DATA_TYPES.has(String.fromCharCode(data[9] ?? 0))) return;
  if (data[10] === 0x6e /* "snapshot" */ || data[11] === 0x62 /* "subscribed" */) return;
  const i = data.lastIndexOf(TS);
  if (i < 0) return;
  let ts = 0;
  for (let k = i + 5; k < data.length; k++) {
    const c = data[k]!;
    if (c < 48 || c > 57) break;
    ts = ts * 10 + (c - 48);
  }
  if (ts < from) return;
  const now = Date.now();
  hist[Math.min(hist.length - 1, Math.max(0, now - ts))]!++;
  measured++;
}

function connect(k: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(args.url!, { perMessageDeflate: false, skipUTF8Validation: true });
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      resolve(ok);
    };
    ws.on('open', () => {
      ws.send(
        JSON.stringify({
          type: 'subscribe',
          topics: ['alerts', 'system', `strategy:s${k % STRATEGIES}`],
        }),
      );
    });
    ws.on('message', (d) => {
      if (!done && Buffer.isBuffer(d) && d[9] === 0x73 && d[11] === 0x62) finish(true); // "subscribed"
      onMessage(d);
    });
    ws.on('error', () => finish(false));
    ws.on('close', () => {
      closed++;
      finish(false);
    });
    sockets.push(ws);
  });
}

let ok = 0;
const t0 = Date.now();
for (let k = 0; k < N; k += 250) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(250, N - k) }, (_, j) => connect(k + j)),
  );
  ok += batch.filter(Boolean).length;
}
out({ event: 'ready', connected: ok, failed: N - ok, connectMs: Date.now() - t0 });

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'measure') {
    from = Number(arg);
    hist.fill(0);
    measured = 0;
    frames = 0;
    loopDelay.reset();
  } else if (cmd === 'report') {
    const sparse: [number, number][] = [];
    hist.forEach((c, ms) => {
      if (c > 0) sparse.push([ms, c]);
    });
    out({
      event: 'report',
      frames,
      measured,
      hist: sparse,
      closed,
      // Event-loop delay during the measurement, ms (the histogram holds timer
      // intervals: the sampling resolution is taken off).
      loop: {
        p50: Math.max(0, loopDelay.percentile(50) / 1e6 - LOOP_RESOLUTION_MS),
        p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
        max: Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS),
      },
      open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
    });
  } else if (cmd === 'exit') {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
