import { z } from 'zod';
import { compileSilenceRegex } from '../silence-regex.js';
import { Acknowledgement, AlertEvent, AlertLevel, AlertState, IncidentId } from './alert-event.js';
import { EpochMs, StrategyId } from './common.js';

/**
 * The alert API of the gateway (acknowledge, silence, history) and the
 * commands it hands to the alerter through Redis (public contract).
 *
 * Flow: the gateway validates a request, stores silences in the silences
 * hash, and appends an AlertCommand to the alert-commands stream; the active
 * alerter reads that stream with its consumer group and applies it.
 */

/** ISO-8601 string or epoch ms, as query parameter or JSON value. */
const TimeInput = z.union([
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.coerce.number().int().min(0).max(8.64e15),
]);

/**
 * One silence matcher: `name` is `rule`, `subject`, `level`, `metric` or a
 * label name; `op` is `=` (default), `!=`, `=~` or `!~` (regular expressions
 * match the whole value).
 */
export const SilenceMatcher = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a label name'),
    value: z.string().max(256),
    op: z.enum(['=', '!=', '=~', '!~']).default('='),
  })
  .superRefine((m, ctx) => {
    if (m.op !== '=~' && m.op !== '!~') return;
    try {
      compileSilenceRegex(m.value); // RE2: what the alerter runs
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: (err as Error).message });
    }
  });
export type SilenceMatcher = z.infer<typeof SilenceMatcher>;

/** `POST /api/silences` body: matchers (all must match) and an expiry. */
export const SilenceInput = z
  .strictObject({
    matchers: z.array(SilenceMatcher).min(1).max(20),
    /** Defaults to now. */
    startsAt: TimeInput.optional(),
    /** Either endsAt or durationMs (at most 90 days). */
    endsAt: TimeInput.optional(),
    durationMs: z
      .number()
      .int()
      .min(1000)
      .max(90 * 24 * 3_600_000)
      .optional(),
    createdBy: z.string().min(1).max(128),
    comment: z.string().max(1024).default(''),
  })
  .refine((s) => (s.endsAt === undefined) !== (s.durationMs === undefined), {
    message: 'give exactly one of endsAt and durationMs',
    path: ['endsAt'],
  });
export type SilenceInput = z.input<typeof SilenceInput>;

export const SilenceId = z.string().regex(/^s-[A-Za-z0-9-]{1,64}$/);

/** A silence as stored in the silences hash and answered by the API. */
export const Silence = z.strictObject({
  id: SilenceId,
  matchers: z.array(SilenceMatcher),
  startsAt: EpochMs,
  endsAt: EpochMs,
  createdBy: z.string(),
  comment: z.string(),
  createdAt: EpochMs,
  /** Set when expired early through `DELETE /api/silences/{id}`. */
  expiredBy: z.literal('api').optional(),
});
export type Silence = z.infer<typeof Silence>;

export const SilenceStatus = z.enum(['pending', 'active', 'expired']);
export type SilenceStatus = z.infer<typeof SilenceStatus>;

export function silenceStatus(s: Silence, now: number): SilenceStatus {
  if (now < s.startsAt) return 'pending';
  return now < s.endsAt ? 'active' : 'expired';
}

/** `POST /api/alerts/{incidentId}/ack` body (optional: an empty body acks as "api"). */
export const AckInput = z.strictObject({
  by: z.string().min(1).max(128).default('api'),
  comment: z.string().max(1024).optional(),
});
export type AckInput = z.input<typeof AckInput>;

/** Entries of the alert-commands stream, from the gateway to the alerter. */
export const AlertCommand = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ack'),
    incidentId: IncidentId,
    ack: Acknowledgement,
  }),
  /** The silences hash changed: reload it. */
  z.strictObject({ type: z.literal('silences-changed'), at: EpochMs }),
]);
export type AlertCommand = z.infer<typeof AlertCommand>;

/** An admin set (`version` > 0) or removed (`removed`) a document through the API (rules, catalogue). */
function documentChanged<K extends string>(kind: K) {
  return z.strictObject({
    kind: z.literal(kind),
    at: EpochMs,
    by: z.string().min(1),
    version: z.number().int().nonnegative(),
    removed: z.boolean().optional(),
    /** What the change added, changed or removed against the document before. */
    changes: z.array(z.string().max(256)).max(200),
    comment: z.string().max(1024).optional(),
  });
}

/**
 * One change made by an operator through the gateway, on the audit stream
 * (public contract, additive): who did it (`by`: the gateway token's name,
 * `name:token` in GATEWAY_TOKENS; "anonymous" for an unnamed token or no
 * auth), when, and to what. `silence-expired` (a silence reaching its
 * endsAt) is not stored: GET /api/alerts derives it from the silence, with
 * `by` "system".
 */
export const AuditEvent = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('acknowledged'),
    at: EpochMs,
    by: z.string().min(1),
    incidentId: IncidentId,
    ack: Acknowledgement,
  }),
  z.strictObject({
    kind: z.enum(['silence-created', 'silence-deleted', 'silence-expired']),
    at: EpochMs,
    by: z.string().min(1),
    silence: Silence,
  }),
  /** Additive (issue 15): an admin set or removed the strategy catalogue through PUT/DELETE /api/catalogue. */
  /** `changes`: strategy ids and patterns added (+), changed (~) or removed (-) against the document before. */
  documentChanged('catalogue-changed'),
  /** Additive (issue 13): an admin set (`version` > 0) or removed (`removed`) the rules document through PUT/DELETE /api/rules. */
  /** `changes`: rules added, changed or removed against the document (or defaults) before. */
  documentChanged('rules-changed'),
  /**
   * Additive (issue 14): an admin retired a strategy through DELETE
   * /api/strategies/{id}: its windows, latest state and open incidents go.
   */
  z.strictObject({
    kind: z.literal('strategy-retired'),
    at: EpochMs,
    by: z.string().min(1),
    strategy: StrategyId,
    /** Whether any service held state for it when asked (a repeated retire: false). */
    known: z.boolean(),
  }),
]);
export type AuditEvent = z.infer<typeof AuditEvent>;

/** `GET /api/alerts` query: history filters over the alerts stream (bounded). */
export const AlertsQuery = z.strictObject({
  state: AlertState.optional(),
  level: AlertLevel.optional(),
  /** Event time range, inclusive, epoch ms or ISO-8601. */
  from: TimeInput.optional(),
  to: TimeInput.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AlertsQuery = z.infer<typeof AlertsQuery>;

/** `GET /api/alerts` answer: open incidents (firing and pending) and matching events, newest first. */
export const AlertsResponse = z.strictObject({
  active: z.array(AlertEvent),
  events: z.array(AlertEvent),
  /**
   * Additive: acknowledgements and silence changes in the same time range
   * (from/to; not filtered by state or level), newest first, at most `limit`.
   */
  audit: z.array(AuditEvent).optional(),
  /** Set when more events may match: pass it as `to` for the next page. */
  nextTo: EpochMs.optional(),
});
export type AlertsResponse = z.infer<typeof AlertsResponse>;

/** `GET /api/silences` answer. */
export const SilencesResponse = z.strictObject({
  silences: z.array(Silence.extend({ status: SilenceStatus })),
});
export type SilencesResponse = z.infer<typeof SilencesResponse>;
