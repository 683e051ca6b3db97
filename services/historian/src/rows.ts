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
  /**
   * The entry's JSON exactly as the stream carried it, when `value` is that
   * JSON parsed and nothing else (decode-item.ts): written as the row's
   * `data` without serialising the value again.
   */
  raw?: string;
}

/** The JSON of an item's value: the stream's own text when it has it. */
export const itemJson = (i: StreamItem<unknown>): string => i.raw ?? JSON.stringify(i.value);

/**
 * A strategy sample that took the fast path (sample-row.ts): its COPY line
 * for strategy_samples, already formatted, and its write time.
 */
export interface SampleRow {
  at: number;
  line: string;
}

export interface EntryBatch {
  /** Strategy samples decoded in full (any shape the schema accepts). */
  strategySamples: StreamItem<StrategySample>[];
  /** Strategy samples of the common shape, as COPY lines (the usual case). */
  sampleRows: SampleRow[];
  scores: StreamItem<ScoreUpdate>[];
  system: StreamItem<SystemSample>[];
  alerts: StreamItem<AlertEvent>[];
  audit: StreamItem<AuditEvent>[];
}

export const emptyBatch = (): EntryBatch => ({
  strategySamples: [],
  sampleRows: [],
  scores: [],
  system: [],
  alerts: [],
  audit: [],
});

export const batchSize = (b: EntryBatch): number =>
  b.strategySamples.length +
  b.sampleRows.length +
  b.scores.length +
  b.system.length +
  b.alerts.length +
  b.audit.length;

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

/** Widen a row's extremes by the lows and highs given. */
type Numbers = Readonly<Partial<Record<string, number>>>;

function widen(row: RollupRow, low: Numbers, high: Numbers): void {
  for (const k in low) {
    const v = low[k];
    const lo = row.min[k];
    if (v !== undefined && (lo === undefined || v < lo)) row.min[k] = v;
  }
  for (const k in high) {
    const v = high[k];
    const hi = row.max[k];
    if (v !== undefined && (hi === undefined || v > hi)) row.max[k] = v;
  }
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
  /** Extremes an entry stands for besides its own values (a conflated score update's span). */
  extremes?: (v: T) => { low: Numbers; high: Numbers } | undefined,
): RollupRow[] {
  // The last item of each bucket is serialised once, at the end: in stream
  // order every item is the latest so far.
  const rows = new Map<string, { row: RollupRow; item: StreamItem<T> }>();
  for (const item of items) {
    const { ms: at, seq } = splitEntryId(item.id);
    const bucket = Math.floor(at / width) * width;
    const s = subject(item.value);
    const key = `${s}\u0000${bucket}`;
    const nums = numbers(item.value);
    const span = extremes?.(item.value);
    let found = rows.get(key);
    if (!found) {
      found = {
        row: {
          bucket,
          subject: s,
          lastAt: at,
          lastPart: item.part,
          lastSeq: seq,
          last: '',
          min: { ...nums },
          max: { ...nums },
        },
        item,
      };
      rows.set(key, found);
    } else {
      widen(found.row, nums, nums);
    }
    const row = found.row;
    if (span) widen(row, span.low, span.high);
    if (found.item !== item && later({ at, part: item.part, seq }, row)) {
      row.lastAt = at;
      row.lastPart = item.part;
      row.lastSeq = seq;
      found.item = item;
    }
  }
  const out: RollupRow[] = [];
  for (const { row, item } of rows.values()) {
    row.last = itemJson(item);
    out.push(row);
  }
  return out.sort((a, b) =>
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
  // A conflated update covers several samples: the extremes they reached count too.
  const span = (u: ScoreUpdate) => u.span;
  return {
    score1m: rollup(b.scores, MINUTE_MS, strategy, scoreNumbers, span),
    score1h: rollup(b.scores, HOUR_MS, strategy, scoreNumbers, span),
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
    samples: [...b.strategySamples.map((i) => entryAt(i.id)), ...b.sampleRows.map((r) => r.at)],
  };
}
