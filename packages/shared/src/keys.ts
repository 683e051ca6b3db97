import { partitionTag } from './partition-tags.js';

/**
 * Every Redis key, stream, group and queue name in one place. All keys hang
 * under a prefix (QUANTMON_PREFIX, default "quantmon") so that several
 * pipelines, or several test files, can share one Redis without touching
 * each other's data.
 *
 * Two kinds of keys:
 * - global (`keysFor(prefix).x`): snapshots and bookkeeping that any
 *   replica reads or writes with single-key commands;
 * - per partition (`keysFor(prefix).partition(p).x`): the pipeline's data
 *   path. Every key of partition p carries the partition's hash tag
 *   (`quantmon:{p3-1380}:stream:scores`: partitionTag in partition-tags.ts),
 *   so a partition lives in one Redis Cluster slot, the Lua scripts that
 *   write it (ingest, fenced score and incident writes) stay legal on a
 *   Cluster, and the partitions spread evenly over the Cluster's masters.
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
  /** The alert-commands stream is global: each alerter partition reads it with a group of its own. */
  alerterCommands: (partition: number) => `alerter-p${partition}`,
} as const;

/** The services whose replicas own partitions through leases. */
export type PartitionOwner = 'scorer' | 'alerter';

/** The keys of one partition: all share the partition's hash tag (`{p<n>-<k>}`). */
export interface PartitionKeys {
  readonly partition: number;
  /** Strategy samples of this partition's strategies, written by ingest, read by the scorer's group. */
  readonly strategySamples: string;
  /** Host samples of this partition's hosts, written by the collector, read by the alerter and every gateway. */
  readonly systemSamples: string;
  /** Score updates, written by the partition's scorer, read by the alerter's group and every gateway. */
  readonly scores: string;
  /** Alert events (firing / resolved / acknowledged), written by the partition's alerter, read by every gateway. */
  readonly alerts: string;
  /** Hash strategy -> latest ScoreUpdate JSON (snapshots, and the scorer's idempotency mark). */
  readonly latestScores: string;
  /** Hash "rule|subject" -> Incident JSON: the alerter's persisted incident state. */
  readonly incidents: string;
  /** Hash subject -> epoch ms it was last seen: the alerter's no-data clock, kept across restarts. */
  readonly lastSeen: string;
  /** SET NX marker per incident id: an emergency job was enqueued once, whatever BullMQ retains. */
  emergencyMarker(incidentId: string): string;
  /**
   * Ingest idempotency: set `<ingestIdsPrefix><generation>:<strategy>`
   * of the sample ids written. A generation is INGEST_IDEMPOTENCY_TTL_S
   * long (generation = floor(Redis time / TTL)); each set expires at the
   * end of the generation after its own, so an id is remembered at least
   * the TTL and at most twice it (ingest-script.ts).
   */
  readonly ingestIdsPrefix: string;
  /**
   * Epoch seconds until which ingest also checks the marks of the first
   * layout (`ingestSeenPrefix`): set by this layout's first write of a
   * sample with an id, to now + TTL when the partition already held samples
   * or ordering state (an upgrade), 0 on a new pipeline.
   */
  readonly ingestLegacyMarksUntil: string;
  /**
   * The first layout's marks, `<ingestSeenPrefix><strategy>:<id>` (a string
   * key with a TTL per id): no longer written; read during the first TTL
   * after an upgrade (ingestLegacyMarksUntil), then gone by expiry.
   */
  readonly ingestSeenPrefix: string;
  /**
   * Hash strategy -> latest sample ts written (epoch ms): ingest ordering.
   * Also holds LAST_TS_LAYOUT_FIELD (not a strategy; ingest-script.ts).
   */
  readonly ingestLastTs: string;
  /**
   * Hash strategy -> RetireRequest JSON: retirements (DELETE /api/strategies/{id})
   * the partition's scorer, then its alerter, have yet to apply.
   */
  retire(owner: PartitionOwner): string;
  /** The owner's lease: value `<replica id>#<epoch>`, with a TTL. Fenced writes compare it. */
  lease(owner: PartitionOwner): string;
  /** INCR at every grant: the fencing token. */
  epoch(owner: PartitionOwner): string;
}

export interface Keys {
  readonly prefix: string;
  /** The partition count P, fixed when the pipeline is first created (SET NX). */
  readonly partitionCount: string;
  /** The keys of partition p. */
  partition(p: number): PartitionKeys;
  /** Entries that failed their schema, with the reason, the source stream and the original fields. */
  readonly deadLetter: string;
  /** Hash host -> latest SystemSample JSON (snapshots). */
  readonly latestSystem: string;
  /** Ack and silence commands from the gateway; each alerter partition reads it with its own group. */
  readonly alertCommands: string;
  /** Hash silence id -> Silence JSON (written by the gateway, read by the alerter). */
  readonly silences: string;
  /** Operators' changes (acknowledgements, silences created and deleted), written by the gateway. */
  readonly audit: string;
  /** Sorted set replica id -> heartbeat expiry (epoch ms): the live members that share partitions. */
  members(owner: PartitionOwner): string;
  /** Pipeline errors counted per epoch second (INCRBY, short TTL): the error rate's numerator. */
  pipelineErrors(epochSecond: number): string;
  /** RulesInForce JSON: the rules the alerter last loaded (written at start and on every reload). */
  readonly rulesInForce: string;
  /** Hash `<service>/<replica>` -> ServiceHeartbeat JSON (service-heartbeat.ts): the health panel's up/down. */
  readonly heartbeats: string;
  /** Hash `<host>/<child>` -> SupervisorRestart JSON (supervisor-restarts.ts): npm start's restarts, for the health panel. */
  readonly supervisorRestarts: string;
  /** RulesDocument JSON: rules set through the gateway's admin API; when present the alerter uses it instead of RULES_FILE. */
  readonly rulesDoc: string;
  /** CatalogueDocument JSON: the strategy catalogue set through the gateway's admin API; when present every service uses it instead of STRATEGIES_FILE. */
  readonly catalogueDoc: string;
  /**
   * Hash ts (ms) -> return of one benchmark named in the catalogue, and its
   * sorted set of ts (the oldest trimmed past a cap): the collector fills a
   * strategy's missing benchmarkReturn from it (benchmark-fill.ts). Both on
   * the benchmark's own hash tag.
   */
  benchmarkReturns(benchmark: string): { returns: string; index: string };
}

export function keysFor(prefix: string): Keys {
  const k = (s: string): string => `${prefix}:${s}`;
  const parts = new Map<number, PartitionKeys>();
  const partition = (p: number): PartitionKeys => {
    let pk = parts.get(p);
    if (!pk) {
      const tag = partitionTag(p);
      const t = (s: string): string => `${prefix}:{${tag}}:${s}`;
      pk = {
        partition: p,
        strategySamples: t('stream:strategy-samples'),
        systemSamples: t('stream:system-samples'),
        scores: t('stream:scores'),
        alerts: t('stream:alerts'),
        latestScores: t('latest:scores'),
        incidents: t('incidents'),
        lastSeen: t('alerter:last-seen'),
        emergencyMarker: (incidentId) => t(`emergency:enqueued:${incidentId}`),
        ingestIdsPrefix: t('ingest:ids:'),
        ingestLegacyMarksUntil: t('ingest:legacy-marks-until'),
        ingestSeenPrefix: t('ingest:seen:'),
        ingestLastTs: t('ingest:last-ts'),
        retire: (owner) => t(`retire:${owner}`),
        lease: (owner) => t(`lease:${owner}`),
        epoch: (owner) => t(`epoch:${owner}`),
      };
      parts.set(p, pk);
    }
    return pk;
  };
  return {
    prefix,
    partitionCount: k('meta:partitions'),
    partition,
    deadLetter: k('stream:dead-letter'),
    latestSystem: k('latest:system'),
    alertCommands: k('stream:alert-commands'),
    silences: k('silences'),
    audit: k('stream:audit'),
    members: (owner) => k(`members:${owner}`),
    pipelineErrors: (epochSecond) => k(`pipeline-errors:${epochSecond}`),
    rulesInForce: k('alerter:rules-in-force'),
    heartbeats: k('heartbeats'),
    supervisorRestarts: k('supervisor:restarts'),
    rulesDoc: k('alerter:rules-doc'),
    catalogueDoc: k('catalogue:doc'),
    benchmarkReturns: (b) => ({
      returns: k(`benchmark:{bench-${b}}:returns`),
      index: k(`benchmark:{bench-${b}}:index`),
    }),
  };
}

/**
 * Approximate MAXLEN per stream (per partition for the partitioned ones):
 * sized well above the worst consumer lag, and for strategy samples above
 * what a new owner replays to rebuild its windows. The hard ceiling: below
 * it the data streams are trimmed by age (STREAM_RETENTION, the scorer's
 * stream-trimmer.ts), never past what a consumer group has yet to process,
 * so this cap alone bounds a stream whose consumer is gone for good.
 */
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
