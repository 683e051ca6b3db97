import { z } from 'zod';
import { AlertEvent } from './alert-event.js';
import { ScoreUpdate } from './score-update.js';
import { SystemSample } from './system-sample.js';
import { StrategyId } from './common.js';

/**
 * `system`, `alerts`, `strategy:*`, `strategy:<id>`, or (additive, issue 15)
 * `tag:<key>=<value>`: the score frames of every strategy whose catalogue
 * tags include that one (`tag:desk=rates`).
 */
export const Topic = z.union(
  [
    z.literal('system'),
    z.literal('alerts'),
    z.literal('strategy:*'),
    z.templateLiteral(['strategy:', StrategyId]),
    z.templateLiteral(['tag:', z.string().regex(/^[a-z_][a-z0-9_]{0,62}=.{1,128}$/)]),
  ],
  // zod's own "Invalid input" does not say what a topic may be.
  {
    error:
      'a topic is system, alerts, strategy:*, strategy:<id> (1-64 of A-Z a-z 0-9 _ . -) or tag:<key>=<value>',
  },
);
export type Topic = z.infer<typeof Topic>;

/** A Redis stream entry id, `<ms>-<seq>`: the position a frame came from. */
export const StreamPos = z
  .string()
  .regex(/^\d{1,20}-\d{1,20}$/, 'must be a stream id like 1700000000000-0');
export type StreamPos = z.infer<typeof StreamPos>;

/**
 * The streams a client can resume: `scores` (strategy topics), `system` and
 * `alerts`. Each is split into P partitions (one Redis stream per
 * partition); a client keeps, per stream and per partition, the newest
 * `pos` it saw (from data frames, whose `part` names the partition, and
 * from `positions` in snapshots and `resumed` frames) and sends them back
 * in `since` when it reconnects.
 */
export const ResumeStream = z.enum(['scores', 'system', 'alerts']);
export type ResumeStream = z.infer<typeof ResumeStream>;

/** A partition number as a JSON object key: `"0"` .. `"1023"`. */
export const PartitionKey = z
  .string()
  .regex(/^(0|[1-9]\d{0,3})$/, 'must be a partition number like "3"');
export type PartitionKey = z.infer<typeof PartitionKey>;

/** Per partition, a stream position: `{"0": "<id>", "3": "<id>"}`. */
export const PartitionPositions = z.record(PartitionKey, StreamPos);
export type PartitionPositions = z.infer<typeof PartitionPositions>;

/**
 * Where a client stands in one stream: one position per partition (the
 * partitioned form), or a single position (the form from before
 * partitions, exact only while the pipeline has one partition; with more
 * the gateway answers `reset` with reason `partitioned`).
 */
export const ResumePosition = z.union([StreamPos, PartitionPositions], {
  error:
    'must be a stream id like 1700000000000-0, or one per partition like {"0": "<id>", "1": "<id>"}',
});
export type ResumePosition = z.infer<typeof ResumePosition>;

export const ResumePositions = z.strictObject({
  scores: ResumePosition.optional(),
  system: ResumePosition.optional(),
  alerts: ResumePosition.optional(),
});
export type ResumePositions = z.infer<typeof ResumePositions>;

/** Per stream, one position per partition (in `snapshot` and `resumed` frames). */
export const StreamPositions = z.strictObject({
  scores: PartitionPositions.optional(),
  system: PartitionPositions.optional(),
  alerts: PartitionPositions.optional(),
});
export type StreamPositions = z.infer<typeof StreamPositions>;

/**
 * Keys of a score update a client can ask to go without (`omit` on
 * subscribe): `span`, the extremes of the samples an update covers, which
 * the alerter judges and a screen does not show. The rest of the update is
 * the same.
 */
export const OmittableScoreKey = z.enum(['span']);
export type OmittableScoreKey = z.infer<typeof OmittableScoreKey>;

/** The longest pacing a connection may ask for (subscribe's `intervalMs`): a minute. */
export const MAX_PACING_MS = 60_000;

/** Messages a WebSocket client may send. */
export const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    topics: z.array(Topic).min(1).max(100),
    /** Resume: replay what came after these positions instead of sending a snapshot. */
    since: ResumePositions.optional(),
    /**
     * Leave these keys out of every score update this connection gets from
     * now on (`score` frames, snapshots, replays); `[]` puts them back.
     * Absent: the connection keeps what it had (everything, at first).
     */
    omit: z.array(OmittableScoreKey).max(8).optional(),
    /**
     * Pace this connection's live `score` and `system` frames: at most one
     * delivery every `intervalMs` ms, where a newer frame for the same
     * strategy or host replaces the one waiting (conflation). Alerts,
     * replies, snapshots and replays are never held: they go at once, after
     * what was waiting. 0: every frame as it comes (the default). Absent:
     * the connection keeps what it had.
     */
    intervalMs: z.number().int().min(0).max(MAX_PACING_MS).optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), topics: z.array(Topic).min(1).max(100) }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Stream position of the entry a frame came from, for resume. */
const Pos = z.string();

/** The partition (0 .. P-1) of the stream an entry came from. */
const Part = z.number().int().nonnegative();

/** Why a resume could not be honoured (the client gets a snapshot instead). */
export const ResetReason = z.enum([
  /** Entries after the client's position were trimmed from the stream (MAXLEN). */
  'trimmed',
  /** The position is newer than anything in the stream (another Redis, or it was flushed). */
  'unknown_position',
  /** More entries were missed than the gateway replays (GATEWAY_REPLAY_MAX). */
  'too_far_behind',
  /** The gateway could not read the stream just now (Redis unavailable). */
  'unavailable',
  /**
   * The positions do not say where the client stands in every partition of
   * the stream: a single position (the older form) while the pipeline has
   * more than one partition, or a partitioned form that misses a partition
   * or names one that does not exist.
   */
  'partitioned',
]);
export type ResetReason = z.infer<typeof ResetReason>;

/** Messages the gateway sends (public contract). */
export const ServerFrame = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('hello'),
    server: z.string(),
    ts: z.number(),
    /** The pipeline's partition count P: `since` names partitions 0 .. P-1. */
    partitions: z.number().int().positive().optional(),
  }),
  z.strictObject({ type: z.literal('subscribed'), topics: z.array(Topic) }),
  z.strictObject({ type: z.literal('unsubscribed'), topics: z.array(Topic) }),
  z.strictObject({
    type: z.literal('snapshot'),
    topic: Topic,
    scores: z.array(ScoreUpdate).optional(),
    system: z.array(SystemSample).optional(),
    alerts: z.array(AlertEvent).optional(),
    /**
     * The stream position the snapshot includes everything up to (resume
     * from here). With more than one partition: the newest of `positions`,
     * for display; resume needs `positions`.
     */
    pos: Pos.optional(),
    /** For the topic's stream, per partition, the position the snapshot includes everything up to. */
    positions: StreamPositions.optional(),
  }),
  z.strictObject({ type: z.literal('score'), pos: Pos, part: Part.optional(), data: ScoreUpdate }),
  z.strictObject({
    type: z.literal('system'),
    pos: Pos,
    part: Part.optional(),
    data: SystemSample,
  }),
  z.strictObject({ type: z.literal('alert'), pos: Pos, part: Part.optional(), data: AlertEvent }),
  z.strictObject({ type: z.literal('pong'), ts: z.number() }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
  /**
   * Resume outcome for one topic: `replayed` entries were sent before live
   * frames (complete, nothing missed). Sent after the replayed frames.
   */
  z.strictObject({
    type: z.literal('resumed'),
    topic: Topic,
    replayed: z.number().int().nonnegative(),
    /** The last entry the replay read (with more than one partition: the newest of `positions`). */
    pos: Pos.optional(),
    /** For the topic's stream, per partition, the last entry the replay read: resume from here. */
    positions: StreamPositions.optional(),
  }),
  /** The position could not be resumed: a snapshot of `topic` follows. */
  z.strictObject({ type: z.literal('reset'), topic: Topic, reason: ResetReason }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/**
 * WebSocket close codes the gateway uses (public contract). 1001 on
 * shutdown and 1009 for an oversized message are the RFC's own.
 */
export const WS_CLOSE = {
  goingAway: 1001,
  messageTooBig: 1009,
  /** The client's backlog passed GATEWAY_MAX_BACKLOG_BYTES: reconnect and resume. */
  slowConsumer: 4008,
  /** Too many client messages (GATEWAY_CLIENT_RATE / _BURST): back off, then reconnect. */
  rateLimited: 4029,
  /** Missing or unknown token (GATEWAY_TOKENS): do not retry with the same token. */
  unauthorized: 4401,
} as const;
