import { z } from 'zod';
import { HistoryPage } from '../schemas/api.js';

/** Epoch ms or an ISO-8601 date-time (query strings). */
export const HistoryTime = z
  .string()
  .transform((s) => (/^\d+$/.test(s) ? Number(s) : Date.parse(s)))
  .refine(Number.isFinite, 'must be epoch ms or an ISO-8601 date-time');

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `1m`, `5m`, `1h`, `1d` or a number of ms, 1 s .. 366 d. */
export const Step = z.string().transform((s, ctx) => {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(s.trim());
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1) : NaN;
  if (!(ms >= 1000 && ms <= 366 * 86_400_000)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a duration of 1s to 366d: 30s, 1m, 5m, 1h, 1d or milliseconds',
    });
    return z.NEVER;
  }
  return ms;
});

/** Which stored resolution answers a step. */
export type Resolution = 'raw' | '1m' | '1h';
export function resolutionFor(stepMs: number | undefined): Resolution {
  if (stepMs === undefined || stepMs < 60_000) return 'raw';
  return stepMs < 3_600_000 ? '1m' : '1h';
}

const Extremes = z.record(z.string(), z.number());

/** A point of `GET /api/history`: with `step`, the bucket's last entry plus its extremes. */
export const HistoryPoint = z.strictObject({
  ...HistoryPage.shape.points.element.shape,
  bucket: z.number().int().optional(),
  min: Extremes.optional(),
  max: Extremes.optional(),
});
export type HistoryPoint = z.infer<typeof HistoryPoint>;

/** `GET /api/history` with history on, or with a step: HistoryPage plus step and resolution (additive). */
export const HistorySeriesPage = z.strictObject({
  ...HistoryPage.shape,
  points: z.array(HistoryPoint),
  step: z.number().int().optional(),
  resolution: z.enum(['raw', '1m', '1h']).optional(),
});
export type HistorySeriesPage = z.infer<typeof HistorySeriesPage>;

export const ExportKind = z.enum(['strategy', 'returns', 'host', 'alerts']);
export type ExportKind = z.infer<typeof ExportKind>;

export const ExportQuery = z
  .strictObject({
    kind: ExportKind,
    id: z
      .string()
      .regex(/^[A-Za-z0-9_.\-/]{1,140}$/, 'must be a strategy id, host id or alert subject')
      .optional(),
    from: HistoryTime.optional(),
    to: HistoryTime.optional(),
    format: z.enum(['csv', 'jsonl']).default('csv'),
  })
  .refine((q) => q.kind === 'alerts' || q.id !== undefined, {
    path: ['id'],
    message: 'required for kind strategy, returns and host',
  });
export type ExportQuery = z.infer<typeof ExportQuery>;

export const ReportQuery = z.strictObject({
  strategy: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a strategy id'),
  from: HistoryTime,
  to: HistoryTime,
});
export type ReportQuery = z.infer<typeof ReportQuery>;

/** What a history reader answers while history is off. */
export const HISTORY_OFF =
  'history is off: set DATABASE_URL (npm start runs an embedded PostgreSQL unless --no-history)';
