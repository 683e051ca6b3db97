import { z } from 'zod';
import { AlertEvent } from './alert-event.js';
import { ScoreUpdate } from './score-update.js';
import { SystemSample } from './system-sample.js';
import { StrategyId } from './common.js';

/** `system`, `alerts`, `strategy:*` or `strategy:<id>`. */
export const Topic = z.union([
  z.literal('system'),
  z.literal('alerts'),
  z.literal('strategy:*'),
  z.templateLiteral(['strategy:', StrategyId]),
]);
export type Topic = z.infer<typeof Topic>;

/** A Redis stream entry id, `<ms>-<seq>`: the position a frame came from. */
export const StreamPos = z
  .string()
  .regex(/^\d{1,20}-\d{1,20}$/, 'must be a stream id like 1700000000000-0');
export type StreamPos = z.infer<typeof StreamPos>;

/**
 * The streams a client can resume: `scores` (strategy topics), `system` and
 * `alerts`. A client keeps the newest `pos` it saw per stream (from data
 * frames and snapshots) and sends them back in `since` when it reconnects.
 */
export const ResumeStream = z.enum(['scores', 'system', 'alerts']);
export type ResumeStream = z.infer<typeof ResumeStream>;

export const ResumePositions = z.strictObject({
  scores: StreamPos.optional(),
  system: StreamPos.optional(),
  alerts: StreamPos.optional(),
});
export type ResumePositions = z.infer<typeof ResumePositions>;

/** Messages a WebSocket client may send. */
export const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    topics: z.array(Topic).min(1).max(100),
    /** Resume: replay what came after these positions instead of sending a snapshot. */
    since: ResumePositions.optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), topics: z.array(Topic).min(1).max(100) }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Stream position of the entry a frame came from, for resume. */
const Pos = z.string();

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
]);
export type ResetReason = z.infer<typeof ResetReason>;

/** Messages the gateway sends (public contract). */
export const ServerFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), server: z.string(), ts: z.number() }),
  z.strictObject({ type: z.literal('subscribed'), topics: z.array(Topic) }),
  z.strictObject({ type: z.literal('unsubscribed'), topics: z.array(Topic) }),
  z.strictObject({
    type: z.literal('snapshot'),
    topic: Topic,
    scores: z.array(ScoreUpdate).optional(),
    system: z.array(SystemSample).optional(),
    alerts: z.array(AlertEvent).optional(),
    /** The stream position the snapshot includes everything up to (resume from here). */
    pos: Pos.optional(),
  }),
  z.strictObject({ type: z.literal('score'), pos: Pos, data: ScoreUpdate }),
  z.strictObject({ type: z.literal('system'), pos: Pos, data: SystemSample }),
  z.strictObject({ type: z.literal('alert'), pos: Pos, data: AlertEvent }),
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
    pos: Pos.optional(),
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
