/**
 * `npm run bench:emergency-outage`: how long an emergency job added just as
 * Redis dies waits, after Redis is back, for a worker to handle it.
 *
 * Each round adds one job to each of two queues on the same Redis (its own
 * redis-server, AOF fsync always, so an acknowledged add survives), waits
 * for the adds' answers or 1-3 event-loop turns, SIGKILLs Redis, starts it
 * again after `--down-ms`, and times each job from the restart to its
 * handler. One queue's worker has BullMQ's own settings (the baseline); the
 * other's createEmergencyWorker's (EMERGENCY_WORKER_DEFAULTS). Both live through the same outage.
 *
 * When the kill lands between a worker taking a job (moved to active under
 * the worker's lock) and the reply reaching it, the job waits for its lock
 * to expire and a stall check: that is the tail this measures. Prints per
 * worker the median, p99 and max of the waits (jobs handled before the
 * kill left out), how many jobs were still active 2 s after the restart
 * (taken, reply lost), and any job handled twice or not within
 * `--give-up-ms`.
 *
 *   npm run -s bench:emergency-outage                 # 20 rounds
 *   npm run -s bench:emergency-outage -- --rounds 40
 */
import { parseArgs } from 'node:util';
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { EMERGENCY_WORKER_DEFAULTS } from '../packages/client/src/emergency-worker.js';
import { spawnRedisServer } from '../scripts/local-redis.js';
import { percentile } from './pipeline-latency.js';

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    'down-ms': { type: 'string', default: '1500' },
    'give-up-ms': { type: 'string', default: '90000' },
  },
});
const rounds = Number(a.rounds);
const downMs = Number(a['down-ms']);
const giveUpMs = Number(a['give-up-ms']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Lane {
  name: string;
  queue: Queue;
  worker: Worker;
  /** Handler runs per job id, with the time of the last. */
  handled: Map<string, { runs: number; at: number }>;
  waits: number[];
  /** Handled before the kill: no wait to count. */
  early: number;
  stalled: number;
  doubled: number;
  lost: number;
}

const redis = await spawnRedisServer({ persistence: 'aof-always' });
const conns: Redis[] = [];
function connection(): Redis {
  const c = new Redis(redis.url, { maxRetriesPerRequest: null });
  c.on('error', () => undefined); // refused while Redis is down: expected
  conns.push(c);
  return c;
}

function lane(name: string, settings: Partial<WorkerOptions>): Lane {
  const prefix = `bench-${name}`;
  const queue = new Queue('quantmon-emergency', { connection: connection(), prefix });
  queue.on('error', () => undefined);
  const handled = new Map<string, { runs: number; at: number }>();
  const worker = new Worker(
    'quantmon-emergency',
    async (job) => {
      const h = handled.get(job.id!) ?? { runs: 0, at: 0 };
      handled.set(job.id!, { runs: h.runs + 1, at: Date.now() });
    },
    { ...settings, connection: connection(), prefix },
  );
  worker.on('error', () => undefined);
  return { name, queue, worker, handled, waits: [], early: 0, stalled: 0, doubled: 0, lost: 0 };
}

const lanes = [lane('bullmq-defaults', {}), lane('emergency-worker', EMERGENCY_WORKER_DEFAULTS)];
await Promise.all(lanes.map((l) => l.worker.waitUntilReady()));
console.log(
  `${rounds} rounds: add a job per queue, wait for the answer or 1-3 event-loop turns, SIGKILL Redis, ${downMs} ms down, restart`,
);

for (let i = 0; i < rounds; i++) {
  const id = `job-${i}`;
  const adds = lanes.map((l) => l.queue.add('risk-reduction', { round: i }, { jobId: id }));
  // Kill when the adds are answered (the workers are then taking the
  // jobs), or 1-3 turns after sending them.
  if (i % 4 === 0) await Promise.all(adds);
  else for (let k = 0; k < i % 4; k++) await turn();
  redis.proc().kill('SIGKILL');
  await redis.stop();
  await sleep(downMs);
  await redis.start();
  const restartedAt = Date.now();
  // An add cut by the kill is resent by ioredis on reconnect.
  await Promise.all(adds);
  await sleep(2000);
  for (const l of lanes) {
    if ((await l.queue.getJobState(id)) === 'active' && !l.handled.has(id)) l.stalled++;
  }
  const deadline = restartedAt + giveUpMs;
  while (lanes.some((l) => !l.handled.has(id)) && Date.now() < deadline) await sleep(50);
  await sleep(200); // a second run of a handler, if any, shows here
  const line: string[] = [];
  for (const l of lanes) {
    const h = l.handled.get(id);
    if (!h) l.lost++;
    else if (h.at < restartedAt) l.early++;
    else l.waits.push(h.at - restartedAt);
    if (h && h.runs > 1) l.doubled++;
    const wait = !h
      ? 'not handled'
      : h.at < restartedAt
        ? 'before the kill'
        : `${h.at - restartedAt} ms`;
    line.push(`${l.name} ${wait}`);
  }
  console.log(`round ${String(i + 1).padStart(2)}: ${line.join(', ')}`);
}

console.log('\nwait from the restart to the handler, ms:');
for (const l of lanes) {
  const s = [...l.waits].sort((x, y) => x - y);
  console.log(
    `${l.name.padEnd(17)} median ${percentile(s, 0.5)}  p99 ${percentile(s, 0.99)}  max ${s.at(-1)}` +
      `  (${l.waits.length} jobs; ${l.early} handled before the kill)` +
      `  still active 2 s after the restart ${l.stalled}/${rounds}  handled twice ${l.doubled}  not handled ${l.lost}`,
  );
}

for (const l of lanes) {
  await l.worker.close(true);
  await l.queue.close();
}
for (const c of conns) c.disconnect();
await redis.dispose();
