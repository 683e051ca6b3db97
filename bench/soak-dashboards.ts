/**
 * The dashboards of bench/soak.ts: desks opening the dashboard, watching
 * for a while and closing it, `concurrent` at a time, one replaced every
 * `holdMs / concurrent` ms, in a process of their own. Each fetches
 * GET /api/summary as the page does; even ones subscribe as the overview
 * does (`strategy:*`, alerts, system), odd ones to 20 strategies picked from
 * that summary (a strategy page), so the gateway's per-connection and
 * per-topic bookkeeping is made and dropped all run long. Every fourth
 * leaves without a close handshake (a laptop lid shut), the others close.
 *
 * argv[2]: JSON { ws, http, concurrent, holdMs }. IPC: `stop` (close all,
 * answer the counts).
 */
import { z } from 'zod';
import WebSocket from 'ws';

const Config = z.strictObject({
  ws: z.url(),
  http: z.url(),
  concurrent: z.number().int().positive(),
  holdMs: z.number().int().positive(),
});

export interface SoakDashboardsCounts {
  type: 'counts';
  opened: number;
  closed: number;
  failed: number;
  frames: number;
  snapshotBytes: number;
}

const cfg = Config.parse(JSON.parse(process.argv[2] ?? '{}'));
const counts: SoakDashboardsCounts = {
  type: 'counts',
  opened: 0,
  closed: 0,
  failed: 0,
  frames: 0,
  snapshotBytes: 0,
};
const open: WebSocket[] = [];
let serial = 0;
let stopping = false;
/** Ends the wait between replacements at once when `stop` arrives. */
let wake = (): void => undefined;

async function strategiesNow(): Promise<string[]> {
  const res = await fetch(`${cfg.http}/api/summary`);
  const text = await res.text();
  counts.snapshotBytes += text.length;
  if (!res.ok) throw new Error(`GET /api/summary answered ${res.status}`);
  const body = JSON.parse(text) as { strategies?: { strategy: string }[] };
  return (body.strategies ?? []).map((s) => s.strategy);
}

async function openOne(): Promise<void> {
  const k = serial++;
  let topics: string[] = ['strategy:*', 'alerts', 'system'];
  try {
    const ids = await strategiesNow();
    if (k % 2 === 1) {
      const step = Math.max(1, Math.floor(ids.length / 20));
      const picked = ids.filter((_, i) => i % step === 0).slice(0, 20);
      topics = ['alerts', 'system', ...picked.map((s) => `strategy:${s}`)];
    }
  } catch {
    counts.failed++;
    return;
  }
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(cfg.ws, { perMessageDeflate: false });
    ws.on('open', () => {
      counts.opened++;
      ws.send(JSON.stringify({ type: 'subscribe', topics }));
      open.push(ws);
      resolve();
    });
    ws.on('message', () => counts.frames++);
    ws.on('error', () => {
      counts.failed++;
      resolve();
    });
    ws.on('close', () => {
      const i = open.indexOf(ws);
      if (i >= 0) open.splice(i, 1);
    });
  });
}

function leave(ws: WebSocket, k: number): void {
  counts.closed++;
  if (k % 4 === 3) ws.terminate();
  else ws.close(1000, 'bye');
}

async function run(): Promise<void> {
  for (let i = 0; i < cfg.concurrent; i++) await openOne();
  const every = cfg.holdMs / cfg.concurrent;
  let k = 0;
  while (!stopping) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, every);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
    if (stopping) break;
    const oldest = open.shift();
    if (oldest) leave(oldest, k++);
    await openOne();
  }
}

const running = run();
process.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  stopping = true;
  wake();
  void running.then(() => {
    for (const ws of [...open]) leave(ws, 0);
    process.send?.(counts);
  });
});
