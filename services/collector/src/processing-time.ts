import type { RawEntry } from '@quantmon/shared';
import { DATA_FIELD } from '@quantmon/shared';
import { percentileSorted } from './percentile.js';

/**
 * Seconds from a sample's arrival (`receivedAt`, stamped at ingest) to its
 * score update (`computedAt`, stamped by the scorer as it writes the
 * update), for each score update entry. Entries that do not carry both as
 * numbers are skipped: this reads two fields and acts on nothing else.
 */
export function processingSeconds(entries: readonly RawEntry[]): number[] {
  const out: number[] = [];
  for (const [, fields] of entries) {
    let raw: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === DATA_FIELD) raw = fields[i + 1];
    if (raw === undefined) continue;
    try {
      const v = JSON.parse(raw) as { receivedAt?: unknown; computedAt?: unknown };
      const { receivedAt, computedAt } = v;
      if (typeof receivedAt !== 'number' || typeof computedAt !== 'number') continue;
      const s = (computedAt - receivedAt) / 1000;
      if (Number.isFinite(s) && s >= 0) out.push(s);
    } catch {
      // not JSON: the alerter dead-letters it; not our business here
    }
  }
  return out;
}

export function p50p99(seconds: readonly number[]): { p50: number; p99: number } | undefined {
  if (seconds.length === 0) return undefined;
  const sorted = Float64Array.from(seconds).sort();
  return { p50: percentileSorted(sorted, 50)!, p99: percentileSorted(sorted, 99)! };
}
