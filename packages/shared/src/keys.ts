/**
 * Every Redis key, stream, group and queue name in one place. All keys hang
 * under a prefix (QUANTMON_PREFIX, default "quantmon") so that several
 * pipelines, or several test files, can share one Redis without touching
 * each other's data.
 */

/** The BullMQ queue trading infrastructure consumes. Public contract: never rename. */
export const EMERGENCY_QUEUE = 'quantmon-emergency';

/** Job names on the emergency queue (public contract). */
export const EMERGENCY_JOB = {
  riskReduction: 'risk-reduction',
  systemCheck: 'system-check',
} as const;

/** The alerter's built-in notifier queue (webhooks), separate from the emergency queue. */
export const NOTIFY_QUEUE = 'quantmon-notifications';

export const GROUPS = {
  scorer: 'scorer',
  alerter: 'alerter',
} as const;

export interface Keys {
  readonly prefix: string;
  /** Strategy samples, written by the collector (and publishSamples), read by the scorer's group. */
  readonly strategySamples: string;
  /** Host samples, written by the collector, read by the alerter's group and every gateway. */
  readonly systemSamples: string;
  /** Score updates, written by the scorer, read by the alerter's group and every gateway. */
  readonly scores: string;
  /** Alert events (firing / resolved), written by the alerter, read by every gateway. */
  readonly alerts: string;
  /** Entries that failed their schema, with the reason and the original fields. */
  readonly deadLetter: string;
  /** Hash strategy -> latest ScoreUpdate JSON (snapshots, and the scorer's idempotency mark). */
  readonly latestScores: string;
  /** Hash host -> latest SystemSample JSON (snapshots). */
  readonly latestSystem: string;
  /** Hash "rule|subject" -> Incident JSON: the alerter's persisted incident state. */
  readonly incidents: string;
  /** SET NX marker per incident id: an emergency job was enqueued once, whatever BullMQ retains. */
  emergencyMarker(incidentId: string): string;
  /** Ack and silence commands from the gateway, read by the alerter's group. */
  readonly alertCommands: string;
  /** Hash silence id -> Silence JSON (written by the gateway, read by the alerter). */
  readonly silences: string;
  /** Hash subject -> epoch ms it was last seen: the alerter's no-data clock, kept across restarts. */
  readonly lastSeen: string;
  /** The alerter leader lock (value: the holder's consumer name). */
  readonly alerterLeader: string;
  /** Ingest idempotency: `<ingestSeenPrefix><strategy>:<id>` is SET (with a TTL) once a sample id was written. */
  readonly ingestSeenPrefix: string;
  /** Hash strategy -> latest sample ts written (epoch ms): ingest ordering. */
  readonly ingestLastTs: string;
  /** Pipeline errors counted per epoch second (INCRBY, short TTL): the error rate's numerator. */
  pipelineErrors(epochSecond: number): string;
}

export function keysFor(prefix: string): Keys {
  const k = (s: string): string => `${prefix}:${s}`;
  return {
    prefix,
    strategySamples: k('stream:strategy-samples'),
    systemSamples: k('stream:system-samples'),
    scores: k('stream:scores'),
    alerts: k('stream:alerts'),
    deadLetter: k('stream:dead-letter'),
    latestScores: k('latest:scores'),
    latestSystem: k('latest:system'),
    incidents: k('incidents'),
    emergencyMarker: (incidentId) => k(`emergency:enqueued:${incidentId}`),
    alertCommands: k('stream:alert-commands'),
    silences: k('silences'),
    lastSeen: k('alerter:last-seen'),
    alerterLeader: k('alerter:leader'),
    ingestSeenPrefix: k('ingest:seen:'),
    ingestLastTs: k('ingest:last-ts'),
    pipelineErrors: (epochSecond) => k(`pipeline-errors:${epochSecond}`),
  };
}

/** Approximate MAXLEN per stream: sized well above the worst consumer lag. */
export const STREAM_MAXLEN = {
  strategySamples: 1_000_000,
  systemSamples: 100_000,
  scores: 200_000,
  alerts: 100_000,
  deadLetter: 10_000,
  alertCommands: 10_000,
} as const;

/** BullMQ's sorted set of failed jobs of the emergency queue (BullMQ's own key layout). */
export function emergencyFailedKey(bullPrefix: string): string {
  return `${bullPrefix}:${EMERGENCY_QUEUE}:failed`;
}
