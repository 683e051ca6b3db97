import { z } from 'zod';
import { EpochMs, FiniteNumber } from './common.js';

export const AlertLevel = z.enum(['critical', 'warning', 'info']);
export type AlertLevel = z.infer<typeof AlertLevel>;

export const AlertState = z.enum(['firing', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

/**
 * What an alert is about: `system` (the whole pipeline), `host/<id>`
 * or `strategy/<id>`. Kept as one string so it can key incidents.
 */
export const Subject = z
  .string()
  .regex(/^(system|host\/[A-Za-z0-9_.-]+|strategy\/[A-Za-z0-9_.-]+)$/);
export type Subject = z.infer<typeof Subject>;

/** Incident ids double as BullMQ job ids: no ':' and never all digits. */
export const IncidentId = z.string().regex(/^[A-Za-z0-9_.-]*[A-Za-z_.-][A-Za-z0-9_.-]*$/);

/** One transition of one incident, on the alerts stream (public contract). */
export const AlertEvent = z.strictObject({
  incidentId: IncidentId,
  rule: z.string().min(1),
  level: AlertLevel,
  subject: Subject,
  state: AlertState,
  /** The measured value that caused this transition, and the rule's threshold. */
  value: FiniteNumber,
  threshold: FiniteNumber,
  /** The metric the rule watches, e.g. "valueAtRisk" or "cpu". */
  metric: z.string(),
  message: z.string(),
  recommendation: z.string(),
  startsAt: EpochMs,
  endsAt: EpochMs.nullable(),
  /** When this event was written. */
  ts: EpochMs,
});
export type AlertEvent = z.infer<typeof AlertEvent>;
