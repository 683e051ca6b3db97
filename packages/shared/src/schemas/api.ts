import { z } from 'zod';
import { AlertEvent } from './alert-event.js';
import { ScoreUpdate } from './score-update.js';
import { SystemSample } from './system-sample.js';

/** 202 answer of `POST /v1/samples`. */
export const IngestAccepted = z.strictObject({
  /** Samples written to the stream. */
  accepted: z.number().int().nonnegative(),
  /** Skipped: their `id` was already written (a retried batch). */
  duplicates: z.number().int().nonnegative(),
  /** Skipped: older than their strategy's latest sample beyond the tolerance. */
  outOfOrder: z.number().int().nonnegative(),
  /** Indexes (in the request's array; 0 for a single sample) of the out-of-order samples. */
  outOfOrderIndexes: z.array(z.number().int().nonnegative()),
  /** Written although older than the latest sample, within the tolerance. */
  late: z.number().int().nonnegative(),
  /** Samples of the batch put in per-strategy ts order before writing. */
  reordered: z.number().int().nonnegative(),
});
export type IngestAccepted = z.infer<typeof IngestAccepted>;

/** Every 4xx/5xx body: a message, and for validation errors every bad field. */
export const ErrorBody = z.strictObject({
  error: z.string(),
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * One answer of the collector's ingest socket (`/v1/samples/ws`): each text
 * message is the body of a `POST /v1/samples`, and gets one answer, in
 * message order, carrying what the POST would have answered: `seq` (the
 * message's 1-based position on its connection), `status` and the body.
 */
const Seq = z.number().int().positive();
export const IngestSocketAccepted = z.strictObject({
  seq: Seq,
  status: z.literal(202),
  ...IngestAccepted.shape,
});
export type IngestSocketAccepted = z.infer<typeof IngestSocketAccepted>;
export const IngestSocketRefused = z.strictObject({
  seq: Seq,
  /** 400, 413, 415 (a binary message), 429 (the scorer is behind), 503 (Redis unavailable). */
  status: z.number().int().min(400).max(599),
  ...ErrorBody.shape,
  /** On 429 and 503: when to send the same message again (its ids make that safe). */
  retryAfterSeconds: z.number().int().positive().optional(),
});
export type IngestSocketRefused = z.infer<typeof IngestSocketRefused>;
export const IngestSocketAnswer = z.union([IngestSocketAccepted, IngestSocketRefused]);
export type IngestSocketAnswer = z.infer<typeof IngestSocketAnswer>;

/** `GET /api/summary`: the latest real-time state. */
export const Summary = z.strictObject({
  ts: z.number(),
  strategies: z.array(ScoreUpdate),
  system: z.array(SystemSample),
  activeAlerts: z.array(AlertEvent),
});
export type Summary = z.infer<typeof Summary>;

/** `GET /api/strategies`: every strategy the gateway has seen, with its latest scores. */
export const StrategyList = z.strictObject({
  ts: z.number(),
  strategies: z.array(
    z.strictObject({
      strategy: z.string(),
      /** Latest sample included: its id, ts, and the window size. */
      id: z.string(),
      ts: z.number(),
      count: z.number().int().nonnegative(),
      scores: ScoreUpdate.shape.scores,
      status: ScoreUpdate.shape.status,
      activeAlerts: z.number().int().nonnegative(),
    }),
  ),
});
export type StrategyList = z.infer<typeof StrategyList>;

/** `GET /api/history`: stream entries of one topic in a time range, oldest first. */
export const HistoryPage = z.strictObject({
  topic: z.string(),
  from: z.number(),
  to: z.number(),
  /**
   * Entries are `{pos, part, data}` where data is a ScoreUpdate, SystemSample
   * or AlertEvent and `part` the partition whose stream held it (`pos` is
   * unique within one partition).
   */
  points: z.array(
    z.strictObject({
      pos: z.string(),
      part: z.number().int().nonnegative().optional(),
      data: z.union([ScoreUpdate, SystemSample, AlertEvent]),
    }),
  ),
  /** True when the range held more than the limit (evenly thinned, newest kept) or the scan stopped early. */
  truncated: z.boolean(),
});
export type HistoryPage = z.infer<typeof HistoryPage>;
