/**
 * The load process of bench/pipeline.ts: trading systems posting samples
 * to `POST /v1/samples`, in a process of its own so its CPU is not counted
 * as the pipeline's. Orders arrive over IPC, one at a time:
 *
 * - `max`: `clients` concurrent keep-alive clients post batches of `batch`
 *   samples round-robin over `strategies` strategies for `seconds`, as fast
 *   as ingest accepts them (a 429 waits 100 ms and sends the same batch
 *   again: the ids make the retry safe);
 * - `paced`: one client posts `rate` samples/s in small batches for
 *   `seconds`, recording when each sample was sent (for the latency from
 *   POST to the dashboard's frame); it answers its counts at once and keeps
 *   the send times until `sends` asks for them: a phase's send times are
 *   megabytes over IPC, and encoding them while the phase's last frames
 *   are still on their way took the CPU those frames needed (the last
 *   second had the worst p99 of its phase in every run before this);
 * - `sends`: the send times of the last `paced` order;
 * - `single`: batch-of-one posts over `connections` keep-alive sockets with
 *   `depth` requests pipelined on each (HTTP/1.1 pipelining), for `seconds`;
 *   with `transport: 'socket'`, one sample per message over as many
 *   connections to the collector's ingest socket, `depth` in flight each;
 * - `exit`.
 *
 * Every sample's id is `<strategy index>:<sequence>`; timestamps rise by
 * one second per sample of a strategy, carried on from order to order.
 */
import { Agent } from 'node:http';
import { postJson } from './http-post.js';
import { pipelinedPosts } from './http-pipelined.js';
import { pipelinedMessages } from './socket-pipelined.js';

export type LoadOrder =
  | {
      type: 'max';
      url: string;
      clients: number;
      batch: number;
      strategies: number;
      seconds: number;
    }
  | { type: 'paced'; url: string; rate: number; batch: number; strategies: number; seconds: number }
  | { type: 'sends' }
  | {
      type: 'single';
      url: string;
      /** http (default): POST /v1/samples; socket: the ingest socket at `url` (ws://). */
      transport?: 'http' | 'socket';
      connections: number;
      depth: number;
      strategies: number;
      seconds: number;
    }
  | { type: 'exit' };

export interface PostCounts {
  accepted: number;
  posts: number;
  status429: number;
  other: number;
  seconds: number;
}

export type LoadReply =
  | ({ type: 'max' } & PostCounts)
  | ({ type: 'paced' } & PostCounts)
  | { type: 'sends'; sends: number[] }
  | ({ type: 'single' } & PostCounts & { latencyMs: { p50: number; p99: number } })
  | { type: 'error'; message: string };

const T0 = 1_767_225_600_000;
/** Next sequence number per strategy index: the order's samples carry on from the last. */
const seq: number[] = [];

function nextSample(s: number): Record<string, unknown> {
  const k = (seq[s] = (seq[s] ?? 0) + 1);
  const i = k * 7919 + s;
  return {
    strategy: `strat-${s}`,
    ts: T0 + k * 1000,
    return: ((i * 7919) % 200) / 10_000 - 0.0099,
    benchmarkReturn: ((i * 104_729) % 200) / 10_000 - 0.01,
    equity: 1_000_000 + k,
    id: `${s}:${k}`,
  };
}

/** Strategies are dealt to clients (s % clients) so one strategy's timestamps never race. */
function makeBatch(
  client: number,
  clients: number,
  size: number,
  strategies: number,
  cursor: { s: number },
) {
  const out: Record<string, unknown>[] = [];
  const own = Math.ceil((strategies - client) / clients);
  for (let j = 0; j < size; j++) {
    const s = client + (cursor.s++ % own) * clients;
    out.push(nextSample(s));
  }
  return out;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** POST one body until accepted; counts what it took. */
async function postUntilTaken(url: string, body: string, n: number, c: PostCounts): Promise<void> {
  for (;;) {
    const res = await postJson(url, body, agent);
    c.posts++;
    if (res.status === 202) {
      c.accepted += n;
      return;
    }
    if (res.status === 429) {
      c.status429++;
      await sleep(100);
      continue;
    }
    c.other++;
    if (res.status !== 503)
      throw new Error(`POST answered ${res.status}: ${res.body.slice(0, 200)}`);
    await sleep(100);
  }
}

/** The send times of the last paced order, until `sends` takes them. */
let lastSends: number[] = [];

const counts = (): PostCounts => ({ accepted: 0, posts: 0, status429: 0, other: 0, seconds: 0 });

async function maxLoad(o: Extract<LoadOrder, { type: 'max' }>): Promise<PostCounts> {
  const c = counts();
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.clients }, async (_, client) => {
      const cursor = { s: 0 };
      while (performance.now() < end) {
        const batch = makeBatch(client, o.clients, o.batch, o.strategies, cursor);
        await postUntilTaken(o.url, JSON.stringify(batch), batch.length, c);
      }
    }),
  );
  c.seconds = (performance.now() - t0) / 1000;
  return c;
}

/** Flat [strategy, sequence, sent at epoch ms (fractional)] triples. */
async function paced(
  o: Extract<LoadOrder, { type: 'paced' }>,
): Promise<PostCounts & { sends: number[] }> {
  const c = counts();
  const sends: number[] = [];
  const t0 = performance.now();
  const interval = (1000 * o.batch) / o.rate;
  const cursor = { s: 0 };
  const inFlight: Promise<void>[] = [];
  for (let k = 0; ; k++) {
    const due = t0 + k * interval;
    if (due > t0 + o.seconds * 1000) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const batch = makeBatch(0, 1, o.batch, o.strategies, cursor);
    const at = performance.timeOrigin + performance.now();
    for (const s of batch) {
      const [si, sq] = String(s['id']).split(':').map(Number);
      sends.push(si!, sq!, at);
    }
    inFlight.push(postUntilTaken(o.url, JSON.stringify(batch), batch.length, c));
    if (inFlight.length > 256) await inFlight.shift();
  }
  await Promise.all(inFlight);
  c.seconds = (performance.now() - t0) / 1000;
  return { ...c, sends };
}

async function single(
  o: Extract<LoadOrder, { type: 'single' }>,
): Promise<PostCounts & { latencyMs: { p50: number; p99: number } }> {
  const cursors = Array.from({ length: o.connections }, () => ({ s: 0 }));
  const r = await (o.transport === 'socket' ? pipelinedMessages : pipelinedPosts)({
    url: o.url,
    connections: o.connections,
    depth: o.depth,
    seconds: o.seconds,
    body: (conn) =>
      JSON.stringify(makeBatch(conn, o.connections, 1, o.strategies, cursors[conn]!)[0]),
  });
  return {
    accepted: r.ok,
    posts: r.sent,
    status429: r.byStatus[429] ?? 0,
    other: r.sent - r.ok - (r.byStatus[429] ?? 0),
    seconds: r.seconds,
    latencyMs: r.latencyMs,
  };
}

process.on('message', (o: LoadOrder) => {
  const reply = (r: LoadReply): void => void process.send?.(r);
  const fail = (err: unknown): void => reply({ type: 'error', message: (err as Error).message });
  if (o.type === 'exit') process.exit(0);
  else if (o.type === 'max') maxLoad(o).then((c) => reply({ type: 'max', ...c }), fail);
  else if (o.type === 'paced')
    paced(o).then(({ sends, ...c }) => {
      lastSends = sends;
      reply({ type: 'paced', ...c });
    }, fail);
  else if (o.type === 'sends') reply({ type: 'sends', sends: lastSends });
  else single(o).then((c) => reply({ type: 'single', ...c }), fail);
});
