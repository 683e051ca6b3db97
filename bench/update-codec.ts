/**
 * `npm run -s bench:update-codec`: what one conflated score update costs to
 * serialise and to read back, in one process, on the machine at hand. The
 * update is real: a strategy with a full window of 1,000 samples, 12
 * samples applied per batch (a steady flow's read beat), so it carries a
 * span. Per round, 20,000 calls of each; prints the median and p99 over
 * rounds of µs per call:
 *
 * - the scorer: applying 12 samples and building the update; `encodeUpdate`;
 * - a reader of the scores stream (the alerter, and the gateway while a
 *   client takes spans): `decodeEntry` of the whole entry;
 * - the gateway while no client takes spans: the text before the span;
 * - the gateway's frame for a client, with and without the span.
 *
 *   npm run -s bench:update-codec                 # 15 rounds
 *   npm run -s bench:update-codec -- --rounds 31
 */
import { parseArgs } from 'node:util';
import { DATA_FIELD, decodeEntry, ScoreUpdate, type StrategySample } from '@quantmon/shared';
import { encodeBroadcast } from '../services/gateway/src/frame-encoding.js';
import { decodeBroadcast } from '../services/gateway/src/stream-feed.js';
import { DEFAULT_METRICS_OPTIONS } from '../services/scorer/src/metrics/index.js';
import { encodeUpdate } from '../services/scorer/src/score-writer.js';
import { ScorerCore } from '../services/scorer/src/scorer-core.js';
import { percentile } from './pipeline-latency.js';

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    calls: { type: 'string', default: '20000' },
  },
});
const rounds = Number(a.rounds);
const calls = Number(a.calls);

const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
let seq = 1;
/** The next 12 samples of one strategy, returns of a few tenths of a percent. */
const batch = (): { id: string; value: StrategySample }[] =>
  Array.from({ length: 12 }, () => {
    const i = seq++;
    const r = Math.sin(i) / 100 + (i % 7) * 1e-4;
    const ts = 1.7e12 + i * 1000;
    return {
      id: `${i}-0`,
      value: { strategy: 's1', ts, return: r, benchmarkReturn: r / 2, receivedAt: ts, id: `x${i}` },
    };
  });
for (let k = 0; k < 100; k++) core.applyBatch(batch(), 7); // a full window
const update = core.applyBatch(batch(), 7).updates[0]!;
const encoded = encodeUpdate(update);
const fields = [DATA_FIELD, encoded.json];
const decoded = decodeBroadcast('scores', 0, '1-0', fields);
if (!decoded.ok) throw new Error(`the update does not decode: ${decoded.reason}`);

const cases: [string, () => unknown][] = [
  ['scorer: apply 12 samples, build the update', () => core.applyBatch(batch(), 7)],
  ['scorer: encodeUpdate', () => encodeUpdate(update)],
  ['reader: decodeEntry, whole entry', () => decodeEntry(fields, ScoreUpdate)],
  ['gateway: decode without the span', () => decodeBroadcast('scores', 0, '1-0', fields, false)],
  ['gateway: frame with the span', () => encodeBroadcast(decoded.b, false)],
  ['gateway: frame without the span', () => encodeBroadcast(decoded.b, true)],
];

console.log(
  `bench:update-codec  one update of ${encoded.json.length} bytes (${encoded.latest?.length ?? 0} without its span), ${rounds} rounds of ${calls.toLocaleString('en-US')} calls`,
);
const times = cases.map(() => [] as number[]);
for (let r = 0; r < rounds + 2; r++) {
  // Cases take turns within a round, so a slow minute of the host falls on all of them.
  cases.forEach(([, f], k) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    const us = Number(process.hrtime.bigint() - t) / 1e3 / calls;
    if (r >= 2) times[k]!.push(us); // the first two rounds warm the JIT
  });
}
cases.forEach(([name], k) => {
  const xs = times[k]!.sort((x, y) => x - y);
  const med = percentile(xs, 0.5).toFixed(2);
  const p99 = percentile(xs, 0.99).toFixed(2);
  console.log(`${name.padEnd(44)} median ${med} µs, p99 ${p99} µs`);
});
