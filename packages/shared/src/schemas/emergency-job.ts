import { z } from 'zod';
import { AlertEvent } from './alert-event.js';

/**
 * Data of a job on the `quantmon-emergency` BullMQ queue: the firing alert
 * that caused it (public contract). Trading infrastructure validates with
 * `EmergencyJobData.parse(job.data)`; the job id is the incident id.
 */
export const EmergencyJobData = z.strictObject({
  alert: AlertEvent.extend({ state: z.literal('firing') }),
  /** The job name, repeated so a payload stands on its own in logs. */
  action: z.string().min(1),
  /** When the alerter enqueued it, epoch ms. */
  enqueuedAt: z.number().int().nonnegative(),
  /**
   * Additive: set (with `resolved`) when the incident resolved while the job
   * was still waiting or delayed, epoch ms. The alerter never withdraws a job:
   * the worker reads this and decides (skip, or act anyway). Absent on a job
   * whose incident was still open when a worker took it.
   */
  resolvedAt: z.number().int().nonnegative().optional(),
  /** Additive: the incident's resolved event, next to `resolvedAt`. */
  resolved: AlertEvent.extend({ state: z.literal('resolved') }).optional(),
});
export type EmergencyJobData = z.infer<typeof EmergencyJobData>;
