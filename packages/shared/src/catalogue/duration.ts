import { z } from 'zod';

/**
 * Durations in the catalogue: a number and a unit, `500ms`, `30s`, `1m`,
 * `6.5h`, `1d`, `1w`, `1M` (a month: 30 days), `1y` (365 days). Minutes are
 * `m`, months `M` (as Prometheus and Grafana write them).
 */
export const DURATION_UNITS_MS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  y: 365 * 86_400_000,
} as const;
export type DurationUnit = keyof typeof DURATION_UNITS_MS;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)$/;

export interface ParsedDuration {
  value: number;
  unit: DurationUnit;
  ms: number;
}

/** undefined when `s` is not a duration of the form above (or is zero). */
export function parseDuration(s: string): ParsedDuration | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2] as DurationUnit;
  const ms = value * DURATION_UNITS_MS[unit];
  return ms > 0 && Number.isFinite(ms) ? { value, unit, ms } : undefined;
}

export const Duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'must be a positive duration like 500ms, 30s, 1m, 6.5h, 1d, 1w, 1M (30 days) or 1y',
});
