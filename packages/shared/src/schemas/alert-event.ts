import { z } from 'zod';
import { EpochMs, FiniteNumber } from './common.js';

export const AlertLevel = z.enum(['critical', 'warning', 'info']);
export type AlertLevel = z.infer<typeof AlertLevel>;

/**
 * `firing` and `resolved` as before; `pending` (additive) is an incident
 * whose condition holds but whose rule's `for` has not yet elapsed. Readers
 * that only know firing/resolved can treat pending as "not active".
 */
export const AlertState = z.enum(['firing', 'resolved', 'pending']);
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

/** Free-form labels of a rule (team, desk, ...): used by silences and shown to receivers. */
export const AlertLabels = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'label names: letters, digits, _'),
  z.string().max(256),
);
export type AlertLabels = z.infer<typeof AlertLabels>;

/** Who acknowledged an incident, when, and why. */
export const Acknowledgement = z.strictObject({
  by: z.string().min(1).max(128),
  at: EpochMs,
  comment: z.string().max(1024).optional(),
  /**
   * Additive: the name of the gateway token the request carried (`name:token`
   * in GATEWAY_TOKENS; "anonymous" for an unnamed token or no auth). `by` is
   * what the caller said; this is what the gateway knows.
   */
  tokenName: z.string().min(1).max(128).optional(),
});
export type Acknowledgement = z.infer<typeof Acknowledgement>;

/** The silence that muted an event: it is recorded but notifies no one and enqueues nothing. */
export const SilencedBy = z.strictObject({ id: z.string().min(1), endsAt: EpochMs });
export type SilencedBy = z.infer<typeof SilencedBy>;

/**
 * The firing incident that inhibits (mutes) another (Alertmanager's
 * inhibition): the muted incident is recorded but notifies no one, enqueues
 * nothing and is not posted to Alertmanager while its source fires.
 */
export const InhibitedBy = z.strictObject({ incidentId: IncidentId, rule: z.string().min(1) });
export type InhibitedBy = z.infer<typeof InhibitedBy>;

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
  /** Additive: the rule's labels. */
  labels: AlertLabels.optional(),
  /** Additive: set once someone acknowledged the incident (no more repeat notifications). */
  acknowledged: Acknowledgement.optional(),
  /**
   * Additive: every acknowledgement of the incident, oldest first (a second
   * one no longer replaces the first); `acknowledged` is the latest.
   */
  acknowledgements: z.array(Acknowledgement).optional(),
  /** Additive: set when a silence matched at the time of this event. */
  silenced: SilencedBy.optional(),
  /**
   * Additive: true while the incident is flapping (its condition keeps
   * changing state: flap detection in the sense of Nagios); its repeat
   * notifications are held back meanwhile. false on the event that clears the
   * mark; absent on incidents that never flapped.
   */
  flapping: z.boolean().optional(),
  /**
   * Additive: set while an inhibition rule mutes the incident (a firing
   * source incident on the same subject or labels); absent once released.
   */
  inhibitedBy: InhibitedBy.optional(),
});
export type AlertEvent = z.infer<typeof AlertEvent>;

/** The built-in notifier's BullMQ queue carries one job per event and webhook target. */
export const NotificationJobData = z.strictObject({
  kind: z.enum(['firing', 'resolved', 'repeat']),
  /** First 16 hex digits of sha256(url): the URL itself (a secret for Slack) stays in config. */
  target: z.string().regex(/^[0-9a-f]{16}$/),
  event: AlertEvent,
});
export type NotificationJobData = z.infer<typeof NotificationJobData>;
