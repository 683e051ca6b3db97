/**
 * `npm run bench:alerts` (or `npx tsx bench/alerts.ts [--incidents 1000]`):
 * alert latency through the whole pipeline. Starts its own redis-server on a
 * free port (never the machine's 6379) and the four services as separate
 * processes, warms up N strategies, then for each one POSTs the single sample
 * that pushes its VaR beyond 0.15 (var_exceeded, critical) and measures, from
 * just before the POST:
 *   (a) the `alert` frame arriving on a WebSocket client of the gateway;
 *   (b) the risk-reduction job in the queue: BullMQ's own add timestamp, and
 *       the moment a Worker in this process receives it.
 * One incident at a time, so each figure is a latency, not a queueing delay.
 * The pipeline has P partitions (`--partitions`, default 8: a new pipeline's
 * default); it also counts the jobs, which must be exactly one per incident.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import {
  allPartitions,
  EMERGENCY_QUEUE,
  GROUPS,
  keysFor,
  ServerFrame,
  type AlertEvent,
} from '@quantmon/shared';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { spawnRedisServer } from '../scripts/local-redis.js';
import { startService, type RunningService } from '../test/helpers/services.js';

const { values: args } = parseArgs({
  options: {
    incidents: { type: 'string', default: '1000' },
    'timeout-ms': { type: 'string', default: '5000' },
    partitions: { type: 'string', default: '8' },
  },
});
const N = Number(args.incidents);
const P = Number(args.partitions);
const TIMEOUT_MS = Number(args['timeout-ms']);
const WARMUP = 20; // calm samples per strategy before the two losses
const prefix = 'bench';
const bullPrefix = 'bench-bull';
const keys = keysFor(prefix);

const cleanups: (() => Promise<void> | void)[] = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // best effort
    }
  }
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function startRedis(): Promise<string> {
  // As npm start runs its own: its own session (scheduling group); reaped if the bench dies.
  const redis = await spawnRedisServer({
    persistence: 'aof-everysec',
    detached: true,
    reapOnExit: true,
  });
  cleanups.push(() => redis.dispose());
  return redis.url;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] ?? NaN;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] ?? a;
  return a + (b - a) * (h - lo);
}

function report(name: string, xs: number[]): void {
  const s = [...xs].sort((a, b) => a - b);
  const f = (x: number): string => `${x.toFixed(2).padStart(7)} ms`;
  console.log(
    `  ${name.padEnd(38)} n=${String(s.length).padStart(5)}  p50 ${f(quantile(s, 0.5))}  p90 ${f(quantile(s, 0.9))}  p99 ${f(quantile(s, 0.99))}  max ${f(s[s.length - 1] ?? NaN)}`,
  );
}

async function main(): Promise<void> {
  const redisUrl = await startRedis();
  const env = {
    REDIS_URL: redisUrl,
    QUANTMON_PREFIX: prefix,
    BULLMQ_PREFIX: bullPrefix,
    LOG_LEVEL: 'warn',
    ALERTER_NO_DATA_MS: '0',
    PARTITIONS: String(P),
  };
  const services: RunningService[] = [];
  cleanups.push(async () => {
    await Promise.all(services.map((s) => s.stop()));
  });
  for (const name of ['gateway', 'alerter', 'scorer', 'collector'] as const) {
    services.push(await startService(name, env));
  }
  const [gateway, , , collector] = services as [
    RunningService,
    RunningService,
    RunningService,
    RunningService,
  ];
  const redis = new Redis(redisUrl);
  cleanups.push(() => redis.disconnect());

  // (a) WebSocket client on the alerts topic.
  const alertSeen = new Map<string, number>();
  const jobSeen = new Map<string, { at: number; job: Job }>();
  const jobsPerSubject = new Map<string, number>();
  /** Per incident, epoch ms: its sample's score update (collector, scorer, scores stream)... */
  const scored = new Map<string, { receivedAt: number; computedAt: number; writtenAt: number }>();
  /** ...and its alert (the alerter's `ts`, the frame's arrival). */
  const alertAt = new Map<string, { ts: number; writtenAt: number; arrived: number }>();
  /**
   * The incident being measured: woken when its alert frame and its job
   * have both arrived. The loop waits on this, not by polling: a poll on
   * setImmediate kept one of the machine's two cores busy while the five
   * processes of the pipeline did the work being timed.
   */
  let waiting: { subject: string; wake: () => void } | undefined;
  const wakeIfDone = (subject: string): void => {
    if (waiting?.subject === subject && alertSeen.has(subject) && jobSeen.has(subject)) {
      waiting.wake();
    }
  };
  const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/ws`);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  cleanups.push(() => ws.close());
  ws.on('message', (data) => {
    const now = performance.now();
    const f = ServerFrame.safeParse(JSON.parse(data.toString()));
    if (!f.success) return;
    if (f.data.type === 'score') {
      // The crossing sample's own score update: when each stage had it.
      const u = f.data.data;
      if (u.id === `${u.strategy}-x`) {
        scored.set(`strategy/${u.strategy}`, {
          receivedAt: u.receivedAt,
          computedAt: u.computedAt,
          writtenAt: Number(f.data.pos.split('-')[0]),
        });
      }
      return;
    }
    if (f.data.type !== 'alert') return;
    const a: AlertEvent = f.data.data;
    if (a.rule === 'var_exceeded' && a.state === 'firing') {
      alertSeen.set(a.subject, now);
      alertAt.set(a.subject, {
        ts: a.ts,
        writtenAt: Number(f.data.pos.split('-')[0]),
        arrived: performance.timeOrigin + now,
      });
      wakeIfDone(a.subject);
    }
  });
  // The strategies' score frames too, for the stages of each incident.
  ws.send(JSON.stringify({ type: 'subscribe', topics: ['alerts', 'strategy:*'] }));

  // (b) A Worker taking the emergency jobs (all of them counted: one per incident).
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    EMERGENCY_QUEUE,
    async (job) => {
      const subject = job.data.alert.subject as string;
      if (!jobSeen.has(subject)) jobSeen.set(subject, { at: performance.now(), job });
      jobsPerSubject.set(subject, (jobsPerSubject.get(subject) ?? 0) + 1);
      wakeIfDone(subject);
    },
    { connection, prefix: bullPrefix, concurrency: 16 },
  );
  cleanups.push(async () => {
    await worker.close();
    connection.disconnect();
  });

  const post = async (body: unknown): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };

  // Warm-up: WARMUP calm days and one loss per strategy (VaR still calm: one loss is the 0th order statistic).
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const day = 86_400_000;
  const ids = Array.from({ length: N }, (_, i) => `bench-${i}`);
  const warm = ids.flatMap((strategy) =>
    Array.from({ length: WARMUP + 1 }, (_, k) => ({
      strategy,
      ts: t0 + k * day,
      return: k === WARMUP ? -0.3 : 0.01,
      id: `${strategy}-w${k}`,
    })),
  );
  /** Whether `group` has read stream `kind` of every partition to the end. */
  const drained = async (kind: 'scores' | 'strategySamples', group: string): Promise<boolean> => {
    for (const p of allPartitions(P)) {
      const groups = (await redis.xinfo('GROUPS', keys.partition(p)[kind])) as unknown[][];
      const g = groups.find((x) => x[x.indexOf('name') + 1] === group);
      if (!g || Number(g[g.indexOf('lag') + 1]) !== 0 || Number(g[g.indexOf('pending') + 1]) !== 0)
        return false;
    }
    return true;
  };
  const alerterDrained = (): Promise<boolean> => drained('scores', GROUPS.alerter);
  process.stdout.write(`warming up ${N} strategies (${warm.length} samples)… `);
  for (let i = 0; i < warm.length; i += 5000) await post(warm.slice(i, i + 5000));
  const deadline = Date.now() + 300_000;
  // Every sample scored (score updates conflate a strategy's samples per read batch).
  while (!(await drained('strategySamples', GROUPS.scorer))) {
    if (Date.now() > deadline) throw new Error('warm-up not scored in 5 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  // Let the alerter and gateway drain the warm-up's warnings.
  while (!(await alerterDrained())) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1000));
  console.log('done');

  const wsMs: number[] = [];
  const stages = {
    ingest: [],
    score: [],
    write: [],
    judge: [],
    record: [],
    deliver: [],
  } as Record<'ingest' | 'score' | 'write' | 'judge' | 'record' | 'deliver', number[]>;
  const addedMs: number[] = [];
  const workerMs: number[] = [];
  let missed = 0;
  const started = performance.now();
  for (const strategy of ids) {
    const subject = `strategy/${strategy}`;
    const wall = Date.now();
    const start = performance.now();
    const sentAt = performance.timeOrigin + start;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((wake) => {
      waiting = { subject, wake };
      timer = setTimeout(wake, TIMEOUT_MS);
    });
    await post({ strategy, ts: t0 + (WARMUP + 1) * day, return: -0.3, id: `${strategy}-x` });
    wakeIfDone(subject);
    await done;
    clearTimeout(timer);
    waiting = undefined;
    const a = alertSeen.get(subject);
    const j = jobSeen.get(subject);
    if (a === undefined || j === undefined) {
      missed++;
      continue;
    }
    wsMs.push(a - start);
    const sc = scored.get(subject);
    const al = alertAt.get(subject);
    if (sc && al) {
      stages.ingest.push(sc.receivedAt - sentAt);
      stages.score.push(sc.computedAt - sc.receivedAt);
      stages.write.push(sc.writtenAt - sc.computedAt);
      stages.judge.push(al.ts - sc.writtenAt);
      stages.record.push(al.writtenAt - al.ts);
      stages.deliver.push(al.arrived - al.writtenAt);
    }
    workerMs.push(j.at - start);
    // BullMQ stamps the job when the alerter adds it (ms clock of the same machine).
    addedMs.push(Math.max(0, j.job.timestamp - wall));
  }
  const elapsed = (performance.now() - started) / 1000;
  // A job doubled by a replay or a takeover would arrive after its first: wait for stragglers.
  await new Promise((r) => setTimeout(r, 1000));
  const jobCounts = ids.map((s) => jobsPerSubject.get(`strategy/${s}`) ?? 0);
  const jobsTotal = [...jobsPerSubject.values()].reduce((a, b) => a + b, 0);

  console.log(
    `\nquantmon alert latency: ${wsMs.length} incidents (${missed} missed) in ${elapsed.toFixed(1)} s`,
  );
  console.log(
    `node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model ?? '?'}), redis-server on ${redisUrl}; four services as processes, ${P} partitions`,
  );
  console.log('from just before POST /v1/samples of the sample crossing var_exceeded (critical):');
  report('(a) alert frame on a WebSocket client', wsMs);
  report('(b) job added to quantmon-emergency', addedMs);
  report('(b) job received by a BullMQ Worker', workerMs);
  console.log('  (job added: BullMQ job.timestamp, whole milliseconds)');
  // Where (a) goes, from the services' own millisecond stamps: collector's
  // receivedAt, scorer's computedAt, the score entry's id, the alert's ts
  // and its entry's id.
  const p = (xs: number[], q: number): string =>
    quantile(
      [...xs].sort((x, y) => x - y),
      q,
    ).toFixed(1);
  console.log(
    `  (a) by stage, p50 / p99 ms (whole-ms stamps; n=${stages.ingest.length}): ` +
      Object.entries(stages)
        .map(([k, v]) => `${k} ${p(v, 0.5)} / ${p(v, 0.99)}`)
        .join(', '),
  );
  console.log(
    '  (ingest: POST to accepted; score: to computed; write: to the scores stream; judge: to the alert; record: to the alerts stream; deliver: to the frame)',
  );
  console.log(
    `jobs: ${jobsTotal} for ${N} incidents; ${jobCounts.filter((c) => c === 1).length} with exactly one, ` +
      `${jobCounts.filter((c) => c > 1).length} with more, ${jobCounts.filter((c) => c === 0).length} with none`,
  );
}

main()
  .then(cleanup)
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exitCode = 1;
  });
