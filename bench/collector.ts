/**
 * Collector overhead: CPU used by a collector process sampling every
 * second, as a fraction of one core, over >= 60 s, next to an idle node
 * process (and an idle node with the tsx loader the collector runs under)
 * measured over the same seconds. Both read from /proc/<pid>/stat
 * (utime + stime, plus reaped children).
 *
 *   npm run bench:collector                   # 60 s, 1 s interval, 2 probes, 8 partitions
 *   npm run bench:collector -- --partitions 1 (the pipeline stats read 6 commands per partition)
 *   npm run bench:collector -- --seconds 120 --probes 0   (or npx tsx bench/collector.ts --seconds 120)
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { keysFor } from '../packages/shared/src/keys.js';
import { DEFAULT_PARTITIONS, partitionOf } from '../packages/shared/src/partition.js';
import { Redis } from 'ioredis';
import {
  benchRedis,
  cpuSeconds,
  pct,
  quantile,
  startCollector,
  startProcess,
} from './collector-support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    interval: { type: 'string', default: '1000' },
    probes: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '5' },
    partitions: { type: 'string', default: String(DEFAULT_PARTITIONS) },
  },
});
const P = Number(args.partitions);
const seconds = Math.max(60, Number(args.seconds));
const intervalMs = Number(args.interval);

const redisSrv = await benchRedis();
const http = createServer((_req, res) => res.writeHead(200).end('ok'));
await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
const addr = http.address();
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
const probes = Array.from({ length: Number(args.probes) }, (_, i) => ({
  name: `p${i}`,
  url: `${base}/health/${i}`,
  intervalMs: 10_000,
}));
const prefix = `bench-collector-${process.pid}`;
const HOST = 'bench-host';
const collector = await startCollector({
  REDIS_URL: redisSrv.url,
  QUANTMON_PREFIX: prefix,
  HOST_ID: HOST,
  PARTITIONS: String(P),
  SYSTEM_INTERVAL_MS: String(intervalMs),
  PROBES: JSON.stringify(probes),
});
const idle = startProcess(['-e', 'setInterval(() => {}, 1000)']);
const idleTsx = startProcess(['--import', 'tsx', '-e', 'setInterval(() => {}, 1000)']);
const procs = [
  { name: 'collector', pid: collector.pid },
  { name: 'idle node (baseline)', pid: idle.pid },
  { name: 'idle node + tsx loader', pid: idleTsx.pid },
];
process.stdout.write(
  `collector pid ${collector.pid}: ${intervalMs} ms interval, ${probes.length} probes every 10 s; ` +
    `${P} partitions; warm-up ${args.warmup} s, then ${seconds} s measured (shared 2-core machine)\n`,
);
await new Promise((r) => setTimeout(r, Number(args.warmup) * 1000));

const start = procs.map((p) => cpuSeconds(p.pid));
const t0 = performance.now();
const perSecond: number[][] = procs.map(() => []);
let prev = start;
let prevT = t0;
for (let s = 0; s < seconds; s++) {
  await new Promise((r) => setTimeout(r, 1000));
  const now = performance.now();
  const cur = procs.map((p) => cpuSeconds(p.pid));
  cur.forEach((c, i) => perSecond[i]!.push((c - prev[i]!) / ((now - prevT) / 1000)));
  prev = cur;
  prevT = now;
}
const wall = (performance.now() - t0) / 1000;
const redis = new Redis(redisSrv.url);
const keys = keysFor(prefix);
// Host samples go to the system-samples stream of the host's partition.
const written = await redis.xlen(keys.partition(partitionOf(HOST, P)).systemSamples);
const latest = await redis.hgetall(keys.latestSystem);
redis.disconnect();

process.stdout.write(
  `\nCPU as a fraction of one core over ${wall.toFixed(1)} s (per-second figures are quantised to 1 % by the 10 ms clock tick):\n`,
);
process.stdout.write(
  `${'process'.padEnd(26)} ${'mean'.padStart(10)} ${'median/s'.padStart(10)} ${'p99/s'.padStart(10)}\n`,
);
const means = procs.map((p, i) => {
  const mean = (prev[i]! - start[i]!) / wall;
  process.stdout.write(
    `${p.name.padEnd(26)} ${pct(mean).padStart(10)} ${pct(quantile(perSecond[i]!, 0.5)).padStart(10)} ${pct(quantile(perSecond[i]!, 0.99)).padStart(10)}\n`,
  );
  return mean;
});
process.stdout.write(
  `\ncollector above the idle node:      ${pct(means[0]! - means[1]!)} of one core\n` +
    `collector above idle node + tsx:    ${pct(means[0]! - means[2]!)} of one core\n` +
    `system samples written: ${written} (expected ~${Math.round((wall + Number(args.warmup)) * (1000 / intervalMs))})\n` +
    `latest sample: ${Object.values(latest)[0] ?? '(none)'}\n`,
);

await Promise.all([collector.stop(), idle.stop(), idleTsx.stop()]);
http.close();
await redisSrv.dispose();
