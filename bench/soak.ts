/**
 * `npm run bench:soak`: the whole pipeline as `npm start --no-demo` runs it
 * (scripts/start.ts supervising collector, scorer, alerter, gateway; its
 * own redis-server with AOF), for `--minutes` (30 by default; 2 is the CI
 * setting), under a steady moderate load with churn:
 *
 * - `--strategies` (10,000) strategies live at any time, posting `--rate`
 *   samples/s in total over HTTP (bench/soak-load.ts); each lives about
 *   `--lifetime` seconds, then goes silent for good while a new id appears;
 * - dashboards opening, subscribing and leaving, `--dashboards` at a time,
 *   a few dozen over the run (bench/soak-dashboards.ts);
 * - idle forgetting set short (`--forget-after`, IDLE_FORGET_AFTER) so that
 *   churned-out strategies are forgotten during the run, and the ingest
 *   idempotency keys' TTL likewise (INGEST_IDEMPOTENCY_TTL_S), so each
 *   reaches its steady state within the warm-up;
 * - stream retention set short (`--retention`, STREAM_RETENTION: 5 minutes
 *   for 30, a sixth of the run) so that the streams, most of Redis's
 *   memory, level off within the warm-up too.
 *
 * Every `--sample-seconds` it reads the resident memory (VmRSS) of every
 * service process and of npm start itself, and Redis's INFO memory. Redis is
 * judged on its state (the bytes of the per-strategy and per-subject hashes,
 * bench/soak-probes.ts), its key count (the idempotency marks) and its
 * used_memory, which the stream retention levels off; Redis's RSS is shown
 * for information (the allocator keeps what it took), with what the streams
 * would hold at their length caps (MAXLEN) without retention. At the end: a table (after
 * warm-up, at a third, at the end, growth over the last two thirds, PASS
 * below `--limit` %: bench/soak-memory.ts), a PNG chart and the samples as
 * CSV in `--out`. Exits 1 when a judged series grew past the
 * limit, or a service was restarted during the run (a restart hides growth).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer } from '../scripts/local-redis.js';
import { ROOT } from './collector-support.js';
import { ask, child, healthy, servicesOf, stopOnExit, waitLeased } from './pipeline-procs.js';
import { renderChart } from './soak-chart.js';
import {
  bookkeeping,
  consumerLag,
  keyCount,
  restartsCounted,
  stateBytes,
  streamBound,
  streamMemory,
  trackedInRedis,
} from './soak-probes.js';
import type { SoakDashboardsCounts } from './soak-dashboards.js';
import type { SoakLoadConfig, SoakLoadCounts } from './soak-load.js';
import { formatTable, parseInfo, residentBytes, summarise, type Series } from './soak-memory.js';

const { values: a } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    strategies: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    /** Seconds a strategy posts before it goes silent; default min(300, a quarter of the run). */
    lifetime: { type: 'string' },
    /** IDLE_FORGET_AFTER in seconds; default min(60, a sixth of the run), at least twice a live strategy's sample interval. */
    'forget-after': { type: 'string' },
    /** STREAM_RETENTION in seconds; default a sixth of the run (5 minutes for 30). */
    retention: { type: 'string' },
    /** Default a sixth of the run. */
    warmup: { type: 'string' },
    'sample-seconds': { type: 'string' },
    dashboards: { type: 'string', default: '4' },
    /** Dashboards opened over the whole run (each stays concurrent/total of it). */
    'dashboards-total': { type: 'string', default: '40' },
    limit: { type: 'string', default: '5' },
    out: { type: 'string', default: join(ROOT, 'test-artifacts', 'soak') },
  },
});
function positive(name: keyof typeof a, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench:soak: --${name} wants a positive number, got ${raw}\n`);
    process.exit(2);
  }
  return n;
}
const runSeconds = positive('minutes', a.minutes, 30) * 60;
const population = Math.round(positive('strategies', a.strategies, 10_000));
const rate = positive('rate', a.rate, 1000);
const lifetime = positive('lifetime', a.lifetime, Math.min(300, runSeconds / 4));
// Long enough that a live strategy (one sample every population / rate seconds) is never idle that long.
const forgetAfter = Math.round(
  positive(
    'forget-after',
    a['forget-after'],
    Math.max(Math.min(60, runSeconds / 6), (2 * population) / rate),
  ),
);
const retention = Math.round(positive('retention', a.retention, runSeconds / 6));
const warmup = positive('warmup', a.warmup, runSeconds / 6);
const every = positive('sample-seconds', a['sample-seconds'], Math.max(1, runSeconds / 180));
const concurrent = Math.round(positive('dashboards', a.dashboards, 4));
const dashboardsTotal = positive('dashboards-total', a['dashboards-total'], 40);
const limitPct = positive('limit', a.limit, 5);
const outDir = resolve(a.out!);
mkdirSync(outDir, { recursive: true });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const prefix = 'quantmon';
const keys = keysFor(prefix);
// Its own folder, removed by dispose() or, if the soak dies first, when it exits.
// Detached, as npm start runs its own (its own session: its own scheduling group).
const redisServer = await spawnRedisServer({
  persistence: 'aof-everysec',
  detached: true,
  reapOnExit: true,
});
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
const gatewayPort = await freePort();
const collectorPort = await freePort();
const supervisorPort = await freePort();
const scorerPort = await freePort();
const alerterPort = await freePort();
const start = child(
  ['--import', 'tsx', 'scripts/start.ts', '--no-demo', '--no-history'],
  {
    ...process.env,
    REDIS_URL: redisServer.url,
    GATEWAY_PORT: String(gatewayPort),
    COLLECTOR_PORT: String(collectorPort),
    SUPERVISOR_PORT: String(supervisorPort),
    SCORER_PORT: String(scorerPort),
    ALERTER_PORT: String(alerterPort),
    LOG_LEVEL: 'warn',
    IDLE_FORGET_AFTER: `${forgetAfter}s`,
    INGEST_IDEMPOTENCY_TTL_S: String(forgetAfter),
    STREAM_RETENTION: `${retention}s`,
  },
  false,
);
// npm start's own lines (restarts, warnings): the last ones are shown if something goes wrong.
const startLines: string[] = [];
start.stdout?.setEncoding('utf8').on('data', (d: string) => {
  startLines.push(...d.split('\n').filter((l) => l.trim() !== ''));
  if (startLines.length > 200) startLines.splice(0, startLines.length - 200);
});
let load: ReturnType<typeof child> | undefined;
let dashboards: ReturnType<typeof child> | undefined;
stopOnExit(start, () => [load, dashboards]);

async function cleanup(): Promise<void> {
  load?.kill('SIGKILL');
  dashboards?.kill('SIGKILL');
  if (start.exitCode === null) {
    const gone = new Promise((r) => start.once('exit', r));
    start.kill('SIGINT');
    await gone;
  }
  redis.disconnect();
  await redisServer.dispose();
}

let exitCode = 0;
try {
  await healthy(`http://127.0.0.1:${gatewayPort}/healthz`, 90_000);
  await healthy(`http://127.0.0.1:${collectorPort}/healthz`, 90_000);
  const partitions = Number(await redis.get(keys.partitionCount));
  await waitLeased(redis, keys, partitions);

  const loadConfig: SoakLoadConfig = {
    url: `http://127.0.0.1:${collectorPort}/v1/samples`,
    rate,
    batch: Math.max(1, Math.round(rate / 20)),
    population,
    churnPerSecond: population / lifetime,
    space: 10_000_000,
  };
  load = child(['--import', 'tsx', 'bench/soak-load.ts', JSON.stringify(loadConfig)], {
    ...process.env,
  });
  const holdMs = Math.round((runSeconds * 1000 * concurrent) / dashboardsTotal);
  dashboards = child(
    [
      '--import',
      'tsx',
      'bench/soak-dashboards.ts',
      JSON.stringify({
        ws: `ws://127.0.0.1:${gatewayPort}/ws`,
        http: `http://127.0.0.1:${gatewayPort}`,
        concurrent,
        holdMs,
      }),
    ],
    { ...process.env },
  );
  const loadFailed = new Promise<never>((_, rej) =>
    load!.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'error') rej(new Error(`load: ${m.message}`));
    }),
  );
  loadFailed.catch(() => undefined);

  console.log(
    `bench:soak  ${runSeconds / 60} min, ${population.toLocaleString('en-US')} strategies live, ` +
      `${rate} samples/s, each strategy lives ~${lifetime} s (${(population / lifetime).toFixed(1)} new ids/s), ` +
      `forgotten after ${forgetAfter} s idle, streams kept ${retention} s (STREAM_RETENTION), ${concurrent} dashboards at a time (~${dashboardsTotal} over the run), ` +
      `P = ${partitions}, sample every ${every} s, warm-up ${warmup} s`,
  );
  const series = new Map<string, Series>();
  const add = (
    name: string,
    judged: boolean,
    t: number,
    value: number | undefined,
    note?: string,
    unit?: 'count',
  ) => {
    if (value === undefined) return;
    let s = series.get(name);
    if (!s) {
      s = { name, judged, points: [], ...(note ? { note } : {}), ...(unit ? { unit } : {}) };
      series.set(name, s);
    }
    s.points.push([t, value]);
  };
  const tracked: [number, number][] = [];
  /** [t, scorer lag, alerter lag]: how far behind the load the pipeline ran. */
  const lags: [number, number, number][] = [];
  let streams: Awaited<ReturnType<typeof streamMemory>> = { bytes: 0, entries: 0, byKind: {} };
  const t0 = performance.now();
  for (let k = 0; ; k++) {
    const due = t0 + k * every * 1000;
    if (due - t0 > runSeconds * 1000) break;
    await Promise.race([sleep(Math.max(0, due - performance.now())), loadFailed]);
    const t = (performance.now() - t0) / 1000;
    // Names, not pids: a restarted service is the same series (and the restart is reported).
    for (const s of servicesOf(start.pid!)) add(s.name, true, t, residentBytes(s.pid));
    add('npm start', true, t, residentBytes(start.pid!));
    const info = parseInfo(await redis.info('memory'));
    const used = Number(info.get('used_memory'));
    streams = await streamMemory(redis, keys, partitions);
    add('redis state', true, t, await stateBytes(redis, keys, partitions));
    add('redis keys', true, t, keyCount(await redis.info('keyspace')), undefined, 'count');
    add('redis used_memory', true, t, used);
    add(
      'redis rss',
      false,
      t,
      residentBytes(redisServer.proc().pid!),
      'the allocator keeps its high-water mark',
    );
    tracked.push([t, await trackedInRedis(redis, keys, partitions)]);
    const lag = await consumerLag(redis, keys, partitions);
    lags.push([t, lag.scorer, lag.alerter]);
    if (k % Math.max(1, Math.round(60 / every)) === 0) {
      const line = [...series.values()]
        .filter((s) => s.judged)
        .map((s) => {
          const v = s.points.at(-1)![1];
          return `${s.name} ${s.unit === 'count' ? v : `${(v / 1048576).toFixed(1)} MiB`}`;
        })
        .join(', ');
      console.log(
        `  ${(t / 60).toFixed(1)} min: ${line}; Redis tracks ${tracked.at(-1)![1]} strategies; ` +
          `behind: scorer ${lag.scorer}, alerter ${lag.alerter}`,
      );
    }
  }
  for (const [name, c] of [
    ['load', load],
    ['dashboards', dashboards],
  ] as const) {
    if (c.exitCode !== null || c.signalCode !== null) throw new Error(`the ${name} process died`);
  }
  const loadCounts = await ask<SoakLoadCounts>(load, { type: 'stop' }, 'counts');
  const dashCounts = await ask<SoakDashboardsCounts>(dashboards, { type: 'stop' }, 'counts');
  const restarts = await restartsCounted(supervisorPort);
  const held = await bookkeeping([collectorPort, scorerPort, alerterPort, gatewayPort]);

  // ── report ─────────────────────────────────────────────────────────────
  const all = [...series.values()];
  const rows = all.map((s) => summarise(s, runSeconds, warmup, limitPct));
  console.log(`\n${formatTable(rows, limitPct)}\n`);
  for (const s of all.filter((x) => x.note)) console.log(`  ${s.name}: not judged (${s.note})`);
  const trackedAt = (at: number): number =>
    tracked.reduce((best, p) => (Math.abs(p[0] - at) < Math.abs(best[0] - at) ? p : best))[1];
  console.log(
    `\nload: ${loadCounts.accepted.toLocaleString('en-US')} samples accepted in ${loadCounts.seconds.toFixed(0)} s ` +
      `(${(loadCounts.accepted / loadCounts.seconds).toFixed(0)}/s), ${loadCounts.strategiesSeen.toLocaleString('en-US')} strategy ids used, ` +
      `${loadCounts.status429} answers 429, ${loadCounts.retried} retried (503 or refused), ` +
      `${loadCounts.abandoned} still refused at the end`,
  );
  const worst = lags.reduce((m, l) => (l[1] > m[1] ? l : m), [0, 0, 0]);
  const behind = worst[1] > rate * 30;
  console.log(
    `backlog: the scorer was at most ${worst[1].toLocaleString('en-US')} samples behind ` +
      `(at ${(worst[0] / 60).toFixed(1)} min), ${lags.at(-1)?.[1] ?? 0} at the end` +
      (behind
        ? `: more than 30 s of load, so the pipeline fell behind (a busy machine?) and its ` +
          `read batches and pending state count in the memory figures`
        : ''),
  );
  console.log(
    `Redis tracked strategies (latest-scores fields): ${trackedAt(warmup)} after warm-up, ` +
      `${trackedAt(runSeconds / 3)} at 1/3, ${tracked.at(-1)?.[1]} at the end ` +
      `(${population} live + ~${Math.round((population / lifetime) * forgetAfter)} idle but not yet forgotten expected)`,
  );
  console.log(
    `streams at the end: ${streams.entries.toLocaleString('en-US')} entries, ${(streams.bytes / 1048576).toFixed(1)} MiB ` +
      `(${retention} s kept); without retention, trimmed at MAXLEN they would hold ` +
      streamBound(streams.byKind, partitions)
        .map(
          (b) =>
            `${b.kind} ${(b.boundBytes / 1073741824).toFixed(2)} GiB (${b.bytesPerEntry.toFixed(0)} B/entry)`,
        )
        .join(', '),
  );
  console.log(
    `dashboards: ${dashCounts.opened} opened, ${dashCounts.closed} left, ${dashCounts.failed} failed, ` +
      `${dashCounts.frames.toLocaleString('en-US')} frames, ${(dashCounts.snapshotBytes / 1048576).toFixed(1)} MiB of summaries read`,
  );
  console.log(`restarts by npm start during the run: ${restarts}`);
  console.log(`the services' own figures at the end (/metrics):\n  ${held.join('\n  ')}`);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const png = join(outDir, `soak-${stamp}.png`);
  writeFileSync(
    png,
    renderChart({
      title: `bench:soak ${new Date().toISOString().slice(0, 16)}Z  ${runSeconds / 60} min, ${population} strategies churning, ${rate}/s, forget ${forgetAfter} s, retention ${retention} s`,
      series: all,
      rows,
      runSeconds,
      warmupSeconds: warmup,
      limitPct,
    }),
  );
  const csv = [
    'series,seconds,bytes',
    ...all.flatMap((s) => s.points.map(([t, b]) => `${s.name},${t.toFixed(1)},${b}`)),
  ];
  writeFileSync(join(outDir, `soak-${stamp}.csv`), `${csv.join('\n')}\n`);
  console.log(`chart: ${png}\nsamples: ${join(outDir, `soak-${stamp}.csv`)}`);

  const failed = rows.filter((r) => r.verdict === 'FAIL' || (r.judged && r.verdict === 'no data'));
  if (failed.length > 0) {
    console.log(
      `\nFAIL: ${failed.map((r) => r.name).join(', ')} grew ${limitPct} % or more over the last two thirds`,
    );
    exitCode = 1;
  }
  if (restarts !== 0) {
    console.log(
      `\nFAIL: npm start restarted a service during the run (${restarts}):\n${startLines.slice(-20).join('\n')}`,
    );
    exitCode = 1;
  }
} catch (err) {
  console.error(`bench:soak failed: ${(err as Error).stack ?? String(err)}`);
  console.error(startLines.slice(-30).join('\n'));
  exitCode = 2;
} finally {
  await cleanup();
}
process.exit(exitCode);
