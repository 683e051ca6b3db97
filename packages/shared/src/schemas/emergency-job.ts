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
});
export type EmergencyJobData = z.infer<typeof EmergencyJobData>;
