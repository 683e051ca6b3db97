import {
  HOUR_MS,
  MINUTE_MS,
  scoreNumbers,
  systemNumbers,
  splitEntryId,
  type AlertEvent,
  type AuditEvent,
  type ScoreUpdate,
  type StrategySample,
  type SystemSample,
} from '@quantmon/shared';

/**
 * Pure: stream entries in, rows for the history tables out (no I/O). Every
 * row keeps the partition and entry id that carried it; rollups are folded
 * per subject and bucket here so one INSERT never touches a row twice.
 */

export interface StreamItem<T> {
  part: number;
  id: string;
  value: T;
}

export interface EntryBatch {
  strategySamples: StreamItem<StrategySample>[];
  scores: StreamItem<ScoreUpdate>[];
  system: StreamItem<SystemSample>[];
  alerts: StreamItem<AlertEvent>[];
  audit: StreamItem<AuditEvent>[];
}

export const emptyBatch = (): EntryBatch => ({
  strategySamples: [],
  scores: [],
  system: [],
  alerts: [],
  audit: [],
});

export const batchSize = (b: EntryBatch): number =>
  b.strategySamples.length + b.scores.length + b.system.length + b.alerts.length + b.audit.length;

/** One rolled-up bucket of one subject. */
export interface RollupRow {
  bucket: number;
  subject: string;
  lastAt: number;
  lastPart: number;
  lastSeq: number;
  last: string;
  min: Record<string, number>;
  max: Record<string, number>;
}

/** (at, part, seq) order: the entry written last wins a bucket's `last`. */
function later(a: { at: number; part: number; seq: number }, b: RollupRow): boolean {
  if (a.at !== b.lastAt) return a.at > b.lastAt;
  if (a.part !== b.lastPart) return a.part > b.lastPart;
  return a.seq > b.lastSeq;
}

/** Fold entries into one row per (subject, bucket of `width` ms), sorted (a stable lock order). */
export function rollup<T>(
  items: readonly StreamItem<T>[],
  width: number,
  subject: (v: T) => string,
  numbers: (v: T) => Record<string, number>,
): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const item of items) {
    const { ms: at, seq } = splitEntryId(item.id);
    const bucket = Math.floor(at / width) * width;
    const s = subject(item.value);
    const key = `${s}\u0000${bucket}`;
    const nums = numbers(item.value);
    const row = rows.get(key);
    if (!row) {
      rows.set(key, {
        bucket,
        subject: s,
        lastAt: at,
        lastPart: item.part,
        lastSeq: seq,
        last: JSON.stringify(item.value),
        min: { ...nums },
        max: { ...nums },
      });
      continue;
    }
    for (const [k, v] of Object.entries(nums)) {
      row.min[k] = Math.min(row.min[k] ?? v, v);
      row.max[k] = Math.max(row.max[k] ?? v, v);
    }
    if (later({ at, part: item.part, seq }, row)) {
      row.lastAt = at;
      row.lastPart = item.part;
      row.lastSeq = seq;
      row.last = JSON.stringify(item.value);
    }
  }
  return [...rows.values()].sort((a, b) =>
    a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.bucket - b.bucket,
  );
}

export interface BatchRollups {
  score1m: RollupRow[];
  score1h: RollupRow[];
  system1m: RollupRow[];
  system1h: RollupRow[];
}

export function rollups(b: EntryBatch): BatchRollups {
  const strategy = (u: ScoreUpdate): string => u.strategy;
  const host = (s: SystemSample): string => s.host;
  return {
    score1m: rollup(b.scores, MINUTE_MS, strategy, scoreNumbers),
    score1h: rollup(b.scores, HOUR_MS, strategy, scoreNumbers),
    system1m: rollup(b.system, MINUTE_MS, host, systemNumbers),
    system1h: rollup(b.system, HOUR_MS, host, systemNumbers),
  };
}

/** The write time of an entry: its id's milliseconds. */
export const entryAt = (id: string): number => splitEntryId(id).ms;

/** The distinct `at` values of a batch's partitioned rows, for creating their partitions first. */
export function batchTimes(b: EntryBatch): { raw: number[]; samples: number[] } {
  return {
    raw: [...b.scores, ...b.system].map((i) => entryAt(i.id)),
    samples: b.strategySamples.map((i) => entryAt(i.id)),
  };
}
