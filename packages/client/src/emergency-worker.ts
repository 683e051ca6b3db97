import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { EMERGENCY_QUEUE } from '../../shared/src/keys.js';
import { EmergencyJobData } from '../../shared/src/schemas/emergency-job.js';
import { URGENT_WORKER_SETTINGS } from '../../shared/src/urgent-worker.js';

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
 * The worker's lock and polling settings, for jobs that must not wait (a
 * 10 s lock, stall checks every 5 s, a 1 s drain delay; why, and what they
 * cost: packages/shared/src/urgent-worker.ts): a job taken as its worker
 * died or Redis stopped is handled within ~15 s, not BullMQ's 15-60 s.
 */
export const EMERGENCY_WORKER_DEFAULTS = URGENT_WORKER_SETTINGS satisfies Partial<WorkerOptions>;

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
