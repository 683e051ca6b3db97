import { EMERGENCY_QUEUE } from '@quantmon/shared';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** The emergency queue's job counts (BullMQ's own states). */
export interface EmergencyCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

/** One emergency job as an operator needs to see it: did the trading stack act? */
export interface EmergencyJobView {
  id: string;
  name: string;
  /** BullMQ's state: waiting, delayed, active, completed, failed, prioritized, unknown. */
  state: string;
  attemptsMade: number;
  attempts: number;
  /** The worker's error on the last failed attempt. */
  failedReason?: string;
  /** The worker's stack traces, one per failed attempt (BullMQ keeps them). */
  stacktrace?: string[];
  enqueuedAt: number;
  processedOn?: number;
  finishedOn?: number;
  returnValue?: unknown;
  /** Set by the alerter when the incident resolved before a worker took the job (docs/alerts.md). */
  resolvedAt?: number;
}

/**
 * A read-only view of the BullMQ emergency queue on the gateway's
 * connection (a Queue, no Worker: it never takes a job). BullMQ does not
 * close a connection it was given, so closing this leaves the gateway's.
 */
export class EmergencyQueueReader {
  private readonly queue: Queue;

  constructor(redis: Redis, bullPrefix: string) {
    this.queue = new Queue(EMERGENCY_QUEUE, { connection: redis, prefix: bullPrefix });
    // Errors reach the callers of counts() and job(); an unhandled 'error' event would crash.
    this.queue.on('error', () => undefined);
  }

  async counts(): Promise<EmergencyCounts> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return {
      waiting: c['waiting'] ?? 0,
      active: c['active'] ?? 0,
      delayed: c['delayed'] ?? 0,
      completed: c['completed'] ?? 0,
      failed: c['failed'] ?? 0,
    };
  }

  /** The job of an incident (its id is the incident id); undefined when there is none (or it was removed). */
  async job(incidentId: string): Promise<EmergencyJobView | undefined> {
    const job = await this.queue.getJob(incidentId);
    if (!job) return undefined;
    const state = await job.getState();
    const data = job.data as { resolvedAt?: unknown } | undefined;
    return {
      id: String(job.id),
      name: job.name,
      state,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      ...(job.failedReason ? { failedReason: job.failedReason } : {}),
      ...(job.stacktrace?.length ? { stacktrace: job.stacktrace } : {}),
      enqueuedAt: job.timestamp,
      ...(job.processedOn ? { processedOn: job.processedOn } : {}),
      ...(job.finishedOn ? { finishedOn: job.finishedOn } : {}),
      ...(job.returnvalue !== undefined && job.returnvalue !== null
        ? { returnValue: job.returnvalue as unknown }
        : {}),
      ...(typeof data?.resolvedAt === 'number' ? { resolvedAt: data.resolvedAt } : {}),
    };
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
