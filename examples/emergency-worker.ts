/**
 * A BullMQ Worker for quantmon's emergency jobs, for trading infrastructure
 * to copy. Run it against the Redis the alerter uses:
 *
 *   REDIS_URL=redis://host:6379 npx tsx examples/emergency-worker.ts
 *   REDIS_CLUSTER_NODES=redis://node-1:6379,redis://node-2:6379 npx tsx examples/emergency-worker.ts
 *
 * With `npm start`, REDIS_URL is the one its banner shows on the `redis:`
 * line (its own redis-server, e.g. redis://127.0.0.1:6390), or your own
 * REDIS_URL if you gave it one. REDIS_CLUSTER_NODES (seed nodes; any few of the Cluster's) switches
 * to ioredis's Cluster client, as it does for quantmon's services.
 *
 * - Queue `quantmon-emergency`; job names `risk-reduction` (var_exceeded),
 *   `system-check` (error_rate_high), and any `action` your rules file adds.
 * - The job id is the incident id: one job per incident, whatever restarts,
 *   replays or alerter replicas happen. Make your handler idempotent by that
 *   id anyway (a handler that crashes half-way is retried).
 * - job.data is validated with the shared schema; a payload that fails it
 *   is an UnrecoverableError: no retries, the job stays in the failed set.
 * - An incident can resolve before any worker takes its job (a VaR spike
 *   that clears, a worker that starts minutes later). The job stays in the
 *   queue, and the alerter adds `resolvedAt` (epoch ms) and the `resolved`
 *   event to its data. Whether a resolved alarm still calls for action is
 *   yours to decide: this example skips `system-check` jobs that resolved and
 *   still runs `risk-reduction` ones (logging both), since a VaR breach that
 *   has cleared may still deserve a look: `actOnResolved` below.
 * - Failures are retried with exponential backoff (the alerter sets
 *   attempts 5, delay 1 s); failed jobs are kept for inspection.
 * - createEmergencyWorker sets a 10 s lock and a stall check every 5 s
 *   (EMERGENCY_WORKER_DEFAULTS; `worker:` below overrides them): a job
 *   this worker took as it died, or as Redis stopped, goes to a worker
 *   within ~15 s, not BullMQ's 30-60 s. A handler must not block the event
 *   loop for 10 s, or its lock lapses and the job runs again.
 */
import {
  createEmergencyWorker,
  EMERGENCY_JOB,
  EMERGENCY_QUEUE,
  type EmergencyHandler,
} from '@quantmon/client';
import { Cluster, Redis } from 'ioredis';

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const clusterNodes = (process.env['REDIS_CLUSTER_NODES'] ?? '')
  .split(',')
  .map((n) => n.trim())
  .filter((n) => n !== '');
const cluster = clusterNodes.length > 0;
// Must match the alerter's BULLMQ_PREFIX: default "bull", on a Cluster "{bull}"
// (a hash tag, so that each queue's keys share one slot, as BullMQ requires).
const prefix = process.env['BULLMQ_PREFIX'] ?? (cluster ? '{bull}' : 'bull');

/** Replace these with calls into your order management / ops tooling. */
const handlers: Record<string, EmergencyHandler> = {
  [EMERGENCY_JOB.riskReduction]: async (data, job) => {
    const { subject, value, threshold } = data.alert;
    console.log(
      `[${job.id}] reduce risk on ${subject}: VaR ${value} beyond ${threshold}; ${data.alert.recommendation}`,
    );
    // e.g. await oms.scaleDown(subject.replace('strategy/', ''), 0.5, { idempotencyKey: job.id });
  },
  [EMERGENCY_JOB.systemCheck]: async (data, job) => {
    console.log(`[${job.id}] system check on ${data.alert.subject}: ${data.alert.message}`);
    // e.g. await pager.trigger({ dedupKey: job.id, summary: data.alert.message });
  },
};

// Workers need maxRetriesPerRequest: null (they block on Redis). A managed
// Cluster with a password or TLS: add them to redisOptions.
const connection = cluster
  ? new Cluster(clusterNodes, { redisOptions: { maxRetriesPerRequest: null } })
  : new Redis(redisUrl, { maxRetriesPerRequest: null });
const worker = createEmergencyWorker({
  connection,
  prefix,
  handlers,
  // A VaR breach that cleared before a worker took its job still gets handled; a system check does not.
  actOnResolved: [EMERGENCY_JOB.riskReduction],
  onSkipped: (data, job) => {
    const ago = Math.round((Date.now() - (data.resolvedAt ?? Date.now())) / 1000);
    console.log(`[${job.id}] incident resolved ${ago} s ago, before this job was taken: skipped`);
  },
  worker: { concurrency: 4 },
});
worker.on('failed', (job, err) =>
  console.error(
    `job ${job?.id} (${job?.name}) failed, attempt ${job?.attemptsMade}: ${err.message}`,
  ),
);
worker.on('error', (err) => console.error(`worker error: ${err.message}`));

// Close on SIGTERM, or running jobs stall and run again ~30 s later elsewhere.
const stop = async (): Promise<void> => {
  await worker.close();
  connection.disconnect();
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
const where = cluster ? `Cluster ${clusterNodes.join(',')}` : redisUrl;
console.log(`emergency worker on ${EMERGENCY_QUEUE} (${where}, prefix ${prefix})`);
