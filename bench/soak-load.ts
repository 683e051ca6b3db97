/**
 * The trading systems of bench/soak.ts: samples posted to `POST /v1/samples`
 * at a steady `rate` over a churning population, in a process of its own
 * (its memory and CPU are not the pipeline's).
 *
 * Churn: at `t` seconds after the start the live strategies are the
 * `population` consecutive indexes from `floor(churnPerSecond * t)`; every
 * second `churnPerSecond` new ones appear at the top and as many go silent
 * at the bottom, for good (indexes only rise; the name is the index modulo
 * `space`, which a run does not wrap unless `space` is small). Samples go
 * round-robin over the live window, so each live strategy gets one every
 * `population / rate` seconds, with the wall-clock time as its `ts` and a
 * unique id (the idempotency path is exercised as a real client's is).
 *
 * argv[2]: the LoadConfig as JSON. IPC: `progress` and `stop` (finish what
 * is in flight, then answer the counts).
 */
import { Agent } from 'node:http';
import { z } from 'zod';
import { postJson } from './http-post.js';

export const SoakLoadConfig = z.strictObject({
  url: z.url(),
  rate: z.number().positive(),
  batch: z.number().int().positive(),
  population: z.number().int().positive(),
  churnPerSecond: z.number().nonnegative(),
  space: z.number().int().positive(),
});
export type SoakLoadConfig = z.infer<typeof SoakLoadConfig>;

export interface SoakLoadCounts {
  type: 'counts';
  accepted: number;
  posts: number;
  status429: number;
  /** 503s and network errors: retried. */
  retried: number;
  /** Samples of batches still refused when the run ended. */
  abandoned: number;
  /** Strategy indexes that have had a sample (the churn's reach). */
  strategiesSeen: number;
  /** The live window's lowest index now. */
  base: number;
  seconds: number;
}

const cfg = SoakLoadConfig.parse(JSON.parse(process.argv[2] ?? '{}'));
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const c = { accepted: 0, posts: 0, status429: 0, retried: 0, abandoned: 0 };
let highest = -1;
let cursor = 0;
let seq = 0;
let stopping = false;
const t0 = performance.now();
const elapsed = (): number => (performance.now() - t0) / 1000;
const baseAt = (s: number): number => Math.floor(cfg.churnPerSecond * s);

/** A small deterministic return (±1 %): no default rule fires on noise of this size. */
const noise = (i: number): number => (((i * 7919) % 201) - 100) / 10_000;

function batch(): Record<string, unknown>[] {
  const base = baseAt(elapsed());
  const now = Date.now();
  const out: Record<string, unknown>[] = [];
  for (let j = 0; j < cfg.batch; j++) {
    const index = base + (cursor++ % cfg.population);
    if (index > highest) highest = index;
    const k = ++seq;
    out.push({
      strategy: `soak-${index % cfg.space}`,
      ts: now,
      return: noise(k),
      benchmarkReturn: noise(k * 31 + 7),
      equity: 1_000_000 + (k % 1000),
      id: `soak-${k}`,
    });
  }
  return out;
}

/** POST until accepted: 429 and 503 (and a refused connection during a restart) are retried. */
async function post(body: string, n: number): Promise<void> {
  for (;;) {
    let status: number;
    let text = '';
    try {
      ({ status, body: text } = await postJson(cfg.url, body, agent));
    } catch {
      status = -1;
    }
    c.posts++;
    if (status === 202) {
      c.accepted += n;
      return;
    }
    if (status === 429) c.status429++;
    else if (status === 503 || status === -1) c.retried++;
    else throw new Error(`POST answered ${status}: ${text.slice(0, 200)}`);
    // Once the run is over a batch still refused is given up (a pipeline far behind answers
    // 429 until it caught up; the report says how far behind it was).
    if (stopping) {
      c.abandoned += n;
      return;
    }
    await sleep(200);
  }
}

function counts(): SoakLoadCounts {
  return {
    type: 'counts',
    ...c,
    strategiesSeen: highest + 1,
    base: baseAt(elapsed()),
    seconds: elapsed(),
  };
}

async function run(): Promise<void> {
  const interval = (1000 * cfg.batch) / cfg.rate;
  const inFlight = new Set<Promise<void>>();
  for (let k = 0; !stopping; k++) {
    const wait = k * interval - (performance.now() - t0);
    if (wait > 1) await sleep(wait);
    const b = batch();
    const p = post(JSON.stringify(b), b.length)
      .catch(fail)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    // A stalled pipeline slows the load down instead of piling up requests here.
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** A bench bug (a 400: the samples are wrong): tell the orchestrator and stop posting. */
function fail(err: unknown): void {
  stopping = true;
  process.send?.({ type: 'error', message: (err as Error).message });
}

const done = run().catch(fail);
process.on('message', (m: { type: string }) => {
  if (m.type === 'progress') process.send?.(counts());
  else if (m.type === 'stop') {
    stopping = true;
    void done.then(() => process.send?.(counts()));
  }
});
