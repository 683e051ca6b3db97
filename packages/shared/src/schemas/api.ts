import { z } from 'zod';
import { AlertEvent } from './alert-event.js';
import { ScoreUpdate } from './score-update.js';
import { SystemSample } from './system-sample.js';

/** 202 answer of `POST /v1/samples`. */
export const IngestAccepted = z.strictObject({ accepted: z.number().int().nonnegative() });
export type IngestAccepted = z.infer<typeof IngestAccepted>;

/** Every 4xx/5xx body: a message, and for validation errors every bad field. */
export const ErrorBody = z.strictObject({
  error: z.string(),
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `GET /api/summary`: the latest real-time state. */
export const Summary = z.strictObject({
  ts: z.number(),
  strategies: z.array(ScoreUpdate),
  system: z.array(SystemSample),
  activeAlerts: z.array(AlertEvent),
});
export type Summary = z.infer<typeof Summary>;
