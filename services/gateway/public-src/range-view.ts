/**
 * The strategy view's time range (issue 12, item 5): live (the last hour,
 * then live frames, as before) or a past range, 1 h / 1 d / 7 d / 30 d or
 * custom, drawn from `GET /api/history` with a `step` (one point per bucket:
 * the gateway reads the historian's rollups for long ranges). Past ranges
 * are frozen: live frames do not move them. With the range come an export
 * link (`GET /api/export`, CSV) and the strategy's report (`GET /api/report`).
 */
import type { ScoreUpdate, SystemSample } from '@quantmon/shared';
import { authToken, request } from './api.js';
import { byId } from './format.js';

export type RangeName = 'live' | '1h' | '1d' | '7d' | '30d' | 'custom';

const SPANS: Record<Exclude<RangeName, 'live' | 'custom'>, number> = {
  '1h': 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
/** About this many points per chart, whatever the range. */
const POINTS = 500;

export interface Range {
  name: RangeName;
  from: number;
  to: number;
}

/** The range the controls say; null for live or an incomplete custom range. */
export function currentRange(now: number): Range | null {
  const name = byId<HTMLSelectElement>('range').value as RangeName;
  if (name === 'live') return null;
  if (name === 'custom') {
    const from = Date.parse(byId<HTMLInputElement>('range-from').value);
    const to = Date.parse(byId<HTMLInputElement>('range-to').value);
    return Number.isFinite(from) && Number.isFinite(to) && from < to ? { name, from, to } : null;
  }
  return { name, from: now - SPANS[name], to: now };
}

/** A bucket width giving about POINTS points over the range, at least a second. */
export function stepFor(r: Range): number {
  return Math.max(1000, Math.ceil((r.to - r.from) / POINTS / 1000) * 1000);
}

export interface RangePoint<T> {
  pos: string;
  data: T;
}

async function get<T>(path: string): Promise<T> {
  const t = authToken();
  const res = await request(path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  if (!res.ok) {
    let detail = '';
    try {
      detail = ((await res.json()) as { error?: string }).error ?? '';
    } catch {
      // not JSON
    }
    throw new Error(`history: HTTP ${res.status}${detail ? ` ${detail}` : ''}`);
  }
  return (await res.json()) as T;
}

/** One topic over the range, bucketed. */
export async function rangeHistory<T extends ScoreUpdate | SystemSample>(
  topic: string,
  r: Range,
): Promise<RangePoint<T>[]> {
  const q = new URLSearchParams({
    topic,
    from: String(r.from),
    to: String(r.to),
    step: String(stepFor(r)),
    limit: String(POINTS * 2),
  });
  const page = await get<{ points: RangePoint<T>[] }>(`/api/history?${q}`);
  return page.points;
}

/** Export and report links for the strategy over the range (the token in the query: a link sends no header). */
export function updateRangeLinks(strategy: string, r: Range | null, now: number): void {
  const range = r ?? { name: '1d', from: now - 86_400_000, to: now };
  const token = authToken();
  const q = (extra: Record<string, string>) =>
    new URLSearchParams({
      ...extra,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      ...(token ? { token } : {}),
    });
  const exp = byId<HTMLAnchorElement>('range-export');
  const rep = byId<HTMLAnchorElement>('range-report');
  exp.href = `/api/export?${q({ kind: 'strategy', id: strategy, format: 'csv' })}`;
  rep.href = `/api/report?${q({ strategy })}`;
  exp.hidden = rep.hidden = strategy === '';
  byId('range-custom').hidden = byId<HTMLSelectElement>('range').value !== 'custom';
}
