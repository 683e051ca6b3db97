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

/** Messages a WebSocket client may send. */
export const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), topics: z.array(Topic).min(1).max(100) }),
  z.strictObject({ type: z.literal('unsubscribe'), topics: z.array(Topic).min(1).max(100) }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Stream position of the entry a frame came from, for resume. */
const Pos = z.string();

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
  }),
  z.strictObject({ type: z.literal('score'), pos: Pos, data: ScoreUpdate }),
  z.strictObject({ type: z.literal('system'), pos: Pos, data: SystemSample }),
  z.strictObject({ type: z.literal('alert'), pos: Pos, data: AlertEvent }),
  z.strictObject({ type: z.literal('pong'), ts: z.number() }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
