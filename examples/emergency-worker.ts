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
 *   has cleared may still deserve a look. Set ACT_ON_RESOLVED below.
 * - Failures are retried with exponential backoff (the alerter sets
 *   attempts 5, delay 1 s); failed jobs are kept for inspection.
 */
import { EMERGENCY_JOB, EMERGENCY_QUEUE, EmergencyJobData } from '@quantmon/shared';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
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
const handlers: Record<string, (data: EmergencyJobData, incidentId: string) => Promise<void>> = {
  [EMERGENCY_JOB.riskReduction]: async (data, incidentId) => {
    const { subject, value, threshold } = data.alert;
    console.log(
      `[${incidentId}] reduce risk on ${subject}: VaR ${value} beyond ${threshold}; ${data.alert.recommendation}`,
    );
    // e.g. await oms.scaleDown(subject.replace('strategy/', ''), 0.5, { idempotencyKey: incidentId });
  },
  [EMERGENCY_JOB.systemCheck]: async (data, incidentId) => {
    console.log(`[${incidentId}] system check on ${data.alert.subject}: ${data.alert.message}`);
    // e.g. await pager.trigger({ dedupKey: incidentId, summary: data.alert.message });
  },
};

/** Per job name: run the handler even when the incident resolved before the job was taken. */
const ACT_ON_RESOLVED: Record<string, boolean> = {
  [EMERGENCY_JOB.riskReduction]: true,
  [EMERGENCY_JOB.systemCheck]: false,
};

async function handle(job: Job): Promise<void> {
  const parsed = EmergencyJobData.safeParse(job.data);
  if (!parsed.success) {
    // Retrying cannot fix a bad payload: fail at once, keep it for inspection.
    throw new UnrecoverableError(`invalid emergency job ${job.id}: ${parsed.error.message}`);
  }
  const handler = handlers[job.name];
  if (!handler) throw new UnrecoverableError(`no handler for job name "${job.name}"`);
  const { resolvedAt } = parsed.data;
  if (resolvedAt !== undefined) {
    const ago = Math.round((Date.now() - resolvedAt) / 1000);
    const act = ACT_ON_RESOLVED[job.name] ?? false;
    console.log(
      `[${job.id}] incident resolved ${ago} s ago, before this job was taken: ${act ? 'handling it anyway' : 'skipped'}`,
    );
    if (!act) return;
  }
  await handler(parsed.data, String(job.id));
}

// Workers need maxRetriesPerRequest: null (they block on Redis). A managed
// Cluster with a password or TLS: add them to redisOptions.
const connection = cluster
  ? new Cluster(clusterNodes, { redisOptions: { maxRetriesPerRequest: null } })
  : new Redis(redisUrl, { maxRetriesPerRequest: null });
const worker = new Worker(EMERGENCY_QUEUE, handle, { connection, prefix, concurrency: 4 });
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
