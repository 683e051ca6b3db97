import { z } from 'zod';
import { AlertEvent } from './alert-event.js';
import { EpochMs } from './common.js';

/**
 * An open incident (`firing`, or additively `pending`: then `firing` holds
 * the pending event) as the alerter persists it in the incidents hash (one
 * per rule and subject). The gateway reads the same hash for the active
 * alerts it shows on connect, hence a shared schema.
 */
export const Incident = z.strictObject({
  /** The event that opened it: id, rule, level, subject, value, threshold, startsAt. */
  firing: AlertEvent,
  /** Emergency job name, when the rule is critical and has one. */
  action: z.string().optional(),
  /** Set once the job is in the queue (the outbox flag: until then it is retried). */
  jobEnqueued: z.boolean(),
  /** Additive: the firing notification was handed to the notifier queue (outbox flag). */
  notified: z.boolean().optional(),
  /** Additive: when receivers were last notified (firing or repeat), for the repeat interval. */
  lastNotifiedAt: EpochMs.optional(),
  /**
   * Additive: a firing incident whose value is back past the clear threshold
   * since this time (stream entry time); it resolves once it has stayed
   * clear for its rule's keepFiringFor. Absent while the condition holds.
   */
  clearSince: EpochMs.optional(),
});
export type Incident = z.infer<typeof Incident>;
