import { z } from 'zod';
import { AlertLevel } from './alert-event.js';
import { EpochMs, FiniteNumber } from './common.js';

/** Where a rule in force came from: a built-in default, a rule new in the file, or a default the file patches. */
export const RuleOrigin = z.enum(['default', 'file', 'override']);
export type RuleOrigin = z.infer<typeof RuleOrigin>;

/** One rule in force, as the alerter compiled it (durations in milliseconds). */
export const RuleInForce = z.object({
  name: z.string(),
  origin: RuleOrigin,
  level: AlertLevel,
  metric: z.string(),
  comparison: z.enum(['>', '>=', '<', '<=']),
  threshold: FiniteNumber,
  clearThreshold: FiniteNumber.nullable(),
  subject: z.string(),
  forMs: EpochMs,
  keepFiringForMs: EpochMs,
  /** Strategy or host ids with an override of their own. */
  overrides: z.array(z.string()),
});
export type RuleInForce = z.infer<typeof RuleInForce>;

/**
 * The rules an alerter loaded (`keys.rulesInForce`), published at start and
 * on every reload; served by the gateway's GET /api/rules.
 */
export const RulesInForce = z.object({
  loadedAt: EpochMs,
  /** The rules file's path; null: the defaults alone. */
  file: z.string().nullable(),
  replica: z.string(),
  rules: z.array(RuleInForce),
});
export type RulesInForce = z.infer<typeof RulesInForce>;
