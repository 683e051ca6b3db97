/**
 * `npm run -s bench:scorer-alloc`: the bytes the scorer's core allocates
 * per sample (apply a read batch, build the updates, encode them), by
 * V8's allocation sampler (HeapProfiler.startSampling, objects collected
 * by young- and old-generation collections included), with the functions
 * that allocate most. Every allocation brings the scorer's next young-
 * generation collection closer, and each collection stops it for a few
 * milliseconds at the half load (docs/performance.md, "twenty-eighth
 * session"). The read's own strings and the write's are not in it: this is
 * the core alone, on 20 strategies with 12 samples each per batch (a
 * steady flow's read beat).
 *
 *   npm run -s bench:scorer-alloc
 *   npm run -s bench:scorer-alloc -- --batches 1000
 *   npm run -s bench:scorer-alloc -- --per-strategy 1   # one update per sample
 */
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import type { StrategySample } from '@quantmon/shared';
import { DEFAULT_METRICS_OPTIONS } from '../services/scorer/src/metrics/index.js';
import { encodeUpdate } from '../services/scorer/src/score-writer.js';
import { ScorerCore } from '../services/scorer/src/scorer-core.js';

// Piped into `head`, the reader may go first: that is the end, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { values: a } = parseArgs({
  options: {
    batches: { type: 'string', default: '500' },
    /** Samples of each strategy per batch: 12 is a steady flow's beat; 1 makes every sample an update. */
    'per-strategy': { type: 'string', default: '12' },
  },
});
const batches = Number(a.batches);
const WARM = 200;
const STRATEGIES = 20;
const PER_STRATEGY = Number(a['per-strategy']);

const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
let seq = 1;
/** One read batch: PER_STRATEGY samples of each strategy, interleaved as a stream holds them. */
function batch(): { id: string; value: StrategySample }[] {
  const out: { id: string; value: StrategySample }[] = [];
  for (let j = 0; j < PER_STRATEGY; j++) {
    for (let s = 0; s < STRATEGIES; s++) {
      const i = seq++;
      const r = Math.sin(i) / 100 + (i % 7) * 1e-4;
      const ts = 1.7e12 + i * 1000;
      const value = { strategy: `s${s}`, ts, return: r, benchmarkReturn: r / 2, receivedAt: ts };
      out.push({ id: `${i}-0`, value: { ...value, id: `x${i}` } });
    }
  }
  return out;
}
// Built before sampling: the batches stand for the read, which is not measured here.
const input = Array.from({ length: WARM + batches }, batch);
let next = 0;
const round = (): void => {
  for (const u of core.applyBatch(input[next++]!, 7).updates) encodeUpdate(u);
};
for (let i = 0; i < WARM; i++) round(); // full windows, and a warm JIT

const session = new Session();
session.connect();
const post = <T>(method: string, params?: object): Promise<T> =>
  new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r as T))));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', {
  samplingInterval: 256,
  includeObjectsCollectedByMinorGC: true,
  includeObjectsCollectedByMajorGC: true,
});
for (let i = 0; i < batches; i++) round();
const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children?: ProfileNode[];
}
const by = new Map<string, number>();
let total = 0;
const walk = (n: ProfileNode): void => {
  const where = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop() ?? ''}`;
  by.set(where, (by.get(where) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children ?? []) walk(c);
};
walk(profile.head);
const samples = batches * STRATEGIES * PER_STRATEGY;
console.log(
  `bench:scorer-alloc  ${samples.toLocaleString('en-US')} samples in ${batches} batches of ${STRATEGIES} strategies x ${PER_STRATEGY}`,
);
const updates = batches * STRATEGIES;
console.log(
  `bytes allocated per sample: ${(total / samples).toFixed(0)} (${(total / updates).toFixed(0)} per update), by function:`,
);
for (const [where, bytes] of [...by].sort((x, y) => y[1] - x[1]).slice(0, 12)) {
  console.log(`  ${(bytes / samples).toFixed(0).padStart(6)}  ${where}`);
}
