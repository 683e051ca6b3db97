import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { EMERGENCY_QUEUE } from '../../shared/src/keys.js';
import { EmergencyJobData } from '../../shared/src/schemas/emergency-job.js';

/** Handles one emergency job: its validated data, and the job (id = incident id). */
export type EmergencyHandler = (data: EmergencyJobData, job: Job) => Promise<void>;

export interface EmergencyWorkerOptions {
  /** A connection to the Redis the alerter uses (BullMQ needs maxRetriesPerRequest: null). */
  connection: Redis | Cluster;
  /**
   * One handler per job name (`risk-reduction`, `system-check`, and the
   * `action` of any rule your rules file adds). A job whose name has no
   * handler fails without retries and stays in the failed set.
   */
  handlers: Record<string, EmergencyHandler>;
  /**
   * The alerter's BULLMQ_PREFIX: default `bull`, `{bull}` on a Redis Cluster.
   */
  prefix?: string;
  /**
   * Job names whose handler runs even when the incident resolved before a
   * worker took the job (`data.resolvedAt` set). Others are completed
   * without running the handler. Default: none (a resolved alarm is skipped).
   */
  actOnResolved?: readonly string[];
  /** Called for a job skipped because its incident had resolved. */
  onSkipped?: (data: EmergencyJobData, job: Job) => void;
  /**
   * Passed on to BullMQ's Worker (concurrency, lockDuration, ...), over
   * EMERGENCY_WORKER_DEFAULTS.
   */
  worker?: Omit<WorkerOptions, 'connection' | 'prefix'>;
}

/**
 * BullMQ's defaults tuned for jobs that must not wait. A job a worker has
 * taken stays `active` under that worker's lock until the lock expires and
 * a stall check moves it back to wait. When the worker dies, or Redis goes
 * away just as the worker takes a job (the job is moved, its reply is
 * lost), nobody handles it until then: with BullMQ's 30 s lock and 30 s
 * checks that was 15-60 s, measured 45-57 s after a Redis restart; with
 * these, 10-13 s (`npm run bench:emergency-outage`, docs/alerts.md).
 * - `lockDuration` 10 s (renewed every 5 s while a handler runs). The cost:
 *   a handler that blocks the event loop longer than that loses its lock
 *   and its job runs again (handlers are idempotent by job id anyway).
 * - `stalledInterval` 5 s between stall checks.
 * - `drainDelay` 1 s: the blocking wait for a job that a reconnect resends
 *   returns within a second; at BullMQ's 5 s, half of the jobs added while
 *   Redis restarted waited ~4 s more.
 */
export const EMERGENCY_WORKER_DEFAULTS = {
  lockDuration: 10_000,
  stalledInterval: 5_000,
  drainDelay: 1,
} as const satisfies Partial<WorkerOptions>;

/**
 * Validate a job's data against quantmon's schema. A payload that fails it
 * cannot be fixed by retrying: UnrecoverableError, naming the job and the
 * first problems.
 */
export function parseEmergencyJob(job: Pick<Job, 'id' | 'data'>): EmergencyJobData {
  const parsed = EmergencyJobData.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new UnrecoverableError(`invalid emergency job ${job.id ?? '(no id)'}: ${issues}`);
}

/**
 * A BullMQ Worker on the `quantmon-emergency` queue. The job id is the
 * incident id (one job per incident, whatever restarts happen on quantmon's
 * side); make handlers idempotent by it anyway, since a handler that throws
 * is retried (the alerter sets attempts and backoff). Close it with
 * `await worker.close()` on shutdown, or its jobs stall and run again later.
 */
export function createEmergencyWorker(opts: EmergencyWorkerOptions): Worker {
  const actOnResolved = new Set(opts.actOnResolved ?? []);
  return new Worker(
    EMERGENCY_QUEUE,
    async (job: Job) => {
      const data = parseEmergencyJob(job);
      const handler = opts.handlers[job.name];
      if (!handler) throw new UnrecoverableError(`no handler for job name "${job.name}"`);
      if (data.resolvedAt !== undefined && !actOnResolved.has(job.name)) {
        opts.onSkipped?.(data, job);
        return;
      }
      await handler(data, job);
    },
    {
      ...EMERGENCY_WORKER_DEFAULTS,
      ...opts.worker,
      connection: opts.connection,
      prefix: opts.prefix ?? 'bull',
    },
  );
}
