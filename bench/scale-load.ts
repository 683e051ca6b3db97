/**
 * The load process of bench/scale.ts: a child process of its own, so the
 * CPU it spends building, validating and writing samples is measured apart
 * from the services' (and from the orchestrator's polling). Orders arrive
 * over IPC, one at a time:
 *
 * - `prepare`: build the run's samples (not timed), answer `ready`;
 * - `go`: send them in `lanes` concurrent lanes, each lane owning its own
 *   strategies so per-strategy timestamps never go backwards: as
 *   `POST /v1/samples` to a collector (keep-alive, a 429 or 503 retried
 *   with the same ids), or, without a collector URL, with `publishSamples`
 *   from @quantmon/shared, the same write ingest makes (validation,
 *   partition split, the idempotent ordered Lua append per partition);
 *   answer `published`;
 * - `baseline`: raw pipelined XADD of the same JSON into one idle stream,
 *   answer `baseline` with the seconds it took;
 * - `exit`.
 */
import { Agent } from 'node:http';
import {
  createRedis,
  DATA_FIELD,
  encodeEntry,
  normaliseSamples,
  partitionOf,
  publishSamples,
  type RedisTarget,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { postJson } from './http-post.js';

export interface LoadSpec {
  target: Exclude<RedisTarget, string>;
  prefix: string;
  partitions: number;
  /** The collector's `POST /v1/samples`; unset: publishSamples straight to Redis. */
  ingestUrl?: string;
  samples: number;
  strategies: number;
  /** Samples per publishSamples call. */
  batch: number;
  lanes: number;
  /** Rounds already published on this prefix: timestamps carry on from there. */
  roundOffset: number;
  /** Tells runs apart in sample ids. */
  tag: string;
}

export type LoadOrder =
  | { type: 'prepare'; spec: LoadSpec }
  | { type: 'go' }
  | { type: 'baseline'; key: string }
  | { type: 'exit' };

export type LoadReply =
  | { type: 'ready' }
  | { type: 'published'; written: number; seconds: number; scripts: number }
  | { type: 'baseline'; samples: number; seconds: number }
  | { type: 'error'; message: string };

const T0 = 1_767_225_600_000;

/** A realistic sample: benchmark return, equity, three weights and targets, an id. */
function sample(strategy: string, round: number, tag: string): Record<string, unknown> {
  const i = round * 7919 + strategy.length;
  return {
    strategy,
    ts: T0 + round * 1000,
    return: ((i * 7919) % 200) / 10_000 - 0.01,
    benchmarkReturn: ((i * 104_729) % 200) / 10_000 - 0.01,
    equity: 1_000_000 + round,
    weights: { SPY: 0.5, TLT: 0.3, GLD: 0.2 },
    targetWeights: { SPY: 0.5, TLT: 0.3, GLD: 0.2 },
    id: `${tag}-${round}`,
  };
}

/** Lane w's batches: samples of the strategies s with s % lanes === w, round by round. */
function buildLanes(spec: LoadSpec): Record<string, unknown>[][][] {
  const lanes = Math.min(spec.lanes, spec.strategies);
  const lists: Record<string, unknown>[][] = Array.from({ length: lanes }, () => []);
  for (let k = 0; k < spec.samples; k++) {
    const s = k % spec.strategies;
    const round = spec.roundOffset + Math.floor(k / spec.strategies);
    lists[s % lanes]!.push(sample(`strat-${s}`, round, `${spec.tag}-${s}`));
  }
  return lists.map((list) => {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < list.length; i += spec.batch) batches.push(list.slice(i, i + spec.batch));
    return batches;
  });
}

let spec: LoadSpec | undefined;
let lanes: Record<string, unknown>[][][] = [];
/** Each batch's request body, serialised once in `prepare`. */
let bodies: string[][] = [];
let agent: Agent | undefined;
let redis: Redis | undefined;

/** POST one batch until it is taken: 429 (scorer lag) and 503 are retried with the same ids. */
async function postBatch(url: string, body: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const res = await postJson(url, body, agent);
    if (res.status === 202) {
      const r = JSON.parse(res.body) as { accepted: number; duplicates: number };
      return r.accepted + r.duplicates;
    }
    if ((res.status !== 429 && res.status !== 503) || attempt >= 1000) {
      throw new Error(`POST /v1/samples answered ${res.status}: ${res.body.slice(0, 300)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function publish(): Promise<LoadReply> {
  if (!spec || !redis) throw new Error('go before prepare');
  const { prefix, partitions } = spec;
  const r = redis;
  const t = performance.now();
  const url = spec.ingestUrl;
  const written = await Promise.all(
    lanes.map(async (batches, w) => {
      let n = 0;
      for (let i = 0; i < batches.length; i++) {
        n += url
          ? await postBatch(url, bodies[w]![i]!)
          : (await publishSamples(r, batches[i]!, { prefix, partitions })).length;
      }
      return n;
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  // One append script per partition a batch touches: the orchestrator tells them from the scorer's.
  let scripts = 0;
  for (const b of lanes.flat()) {
    scripts += new Set(b.map((x) => partitionOf(String(x['strategy']), partitions))).size;
  }
  return { type: 'published', written: written.reduce((a, n) => a + n, 0), seconds, scripts };
}

/** The same JSON as the stream entries, XADDed to one key, 1000 per pipeline, one pipeline at a time. */
async function baseline(key: string): Promise<LoadReply> {
  if (!spec || !redis) throw new Error('baseline before prepare');
  const entries = normaliseSamples(lanes.flat(2), Date.now()).map((s) => encodeEntry(s)[1]);
  const t = performance.now();
  for (let i = 0; i < entries.length; i += 1000) {
    const p = redis.pipeline();
    for (const json of entries.slice(i, i + 1000)) p.xadd(key, '*', DATA_FIELD, json);
    await p.exec();
  }
  const seconds = (performance.now() - t) / 1000;
  await redis.del(key);
  return { type: 'baseline', samples: entries.length, seconds };
}

async function handle(order: LoadOrder): Promise<LoadReply | undefined> {
  switch (order.type) {
    case 'prepare':
      spec = order.spec;
      lanes = buildLanes(spec);
      bodies = spec.ingestUrl ? lanes.map((bs) => bs.map((b) => JSON.stringify(b))) : [];
      agent ??= new Agent({ keepAlive: true, maxSockets: spec.lanes });
      redis ??= createRedis(spec.target, 'blocking', 'bench-scale-load');
      await redis.ping();
      return { type: 'ready' };
    case 'go':
      return publish();
    case 'baseline':
      return baseline(order.key);
    case 'exit':
      redis?.disconnect();
      agent?.destroy();
      process.disconnect();
      return undefined;
  }
}

if (!process.send) throw new Error('bench/scale-load.ts runs as a child of bench/scale.ts (IPC)');
process.on('message', (order: LoadOrder) => {
  handle(order).then(
    (reply) => reply && process.send?.(reply),
    (err: unknown) => process.send?.({ type: 'error', message: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
