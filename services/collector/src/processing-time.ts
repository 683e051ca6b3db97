import type { RawEntry } from '@quantmon/shared';
import { DATA_FIELD } from '@quantmon/shared';
import { percentileSorted } from './percentile.js';

/**
 * The two stamps as the scorer writes them: adjacent top-level keys, after
 * the metrics, scores and status (whose keys are fixed names) and before
 * the span and anything keyed by users. `,"receivedAt":` can only be a
 * key: inside a JSON string a quote is escaped. A text not in this shape
 * (another writer, another key order) is parsed whole instead.
 */
const NUM = '(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)';
const STAMPS = new RegExp(`,"receivedAt":${NUM},"computedAt":${NUM}[,}]`);

/**
 * Seconds from a sample's arrival (`receivedAt`, stamped at ingest) to its
 * score update (`computedAt`, stamped by the scorer as it writes the
 * update), for each score update entry. Entries that do not carry both as
 * numbers are skipped: this reads two fields and acts on nothing else.
 *
 * Why not JSON.parse each entry: a reading takes up to 1,000 updates of
 * ~2.7 KB every SYSTEM_INTERVAL_MS, and parsing them whole took the
 * collector's one thread 17-30 ms at once (measured on a busy 2-core host,
 * docs/performance.md, "twenty-eighth session"): every POST arriving then
 * waited for it. The two numbers are found in the text instead.
 */
export function processingSeconds(entries: readonly RawEntry[]): number[] {
  const out: number[] = [];
  for (const [, fields] of entries) {
    let raw: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === DATA_FIELD) raw = fields[i + 1];
    if (raw === undefined) continue;
    const stamps = STAMPS.exec(raw);
    const s = stamps ? (Number(stamps[2]) - Number(stamps[1])) / 1000 : parsedSeconds(raw);
    if (s !== undefined && Number.isFinite(s) && s >= 0) out.push(s);
  }
  return out;
}

/** The same from the whole text parsed; undefined when it has not both as numbers. */
function parsedSeconds(raw: string): number | undefined {
  try {
    const v = JSON.parse(raw) as { receivedAt?: unknown; computedAt?: unknown };
    const { receivedAt, computedAt } = v;
    if (typeof receivedAt !== 'number' || typeof computedAt !== 'number') return undefined;
    return (computedAt - receivedAt) / 1000;
  } catch {
    return undefined; // not JSON: the alerter dead-letters it; not our business here
  }
}

export function p50p99(seconds: readonly number[]): { p50: number; p99: number } | undefined {
  if (seconds.length === 0) return undefined;
  const sorted = Float64Array.from(seconds).sort();
  return { p50: percentileSorted(sorted, 50)!, p99: percentileSorted(sorted, 99)! };
}
