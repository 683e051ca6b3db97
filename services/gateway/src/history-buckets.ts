import {
  scoreNumbers,
  splitEntryId,
  systemNumbers,
  type HistoryPoint,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';

/**
 * Pure: points folded into step buckets per subject (strategy or host):
 * the bucket's last entry by (write time, partition, sequence) and the least
 * and greatest value per numeric field. Folding is idempotent (least,
 * greatest, latest), so the same entry seen twice, once from a stream and
 * once from PostgreSQL, or from overlapping rollups, changes nothing: that is
 * what makes the stream/database boundary gap- and duplicate-free.
 */

type Data = ScoreUpdate | SystemSample;

interface Bucket {
  bucket: number;
  subject: string;
  at: number;
  part: number;
  seq: number;
  pos: string;
  data: Data;
  min: Record<string, number>;
  max: Record<string, number>;
}

export const subjectOf = (d: Data): string => ('strategy' in d ? d.strategy : d.host);
const numbersOf = (d: Data): Record<string, number> =>
  'strategy' in d ? scoreNumbers(d) : systemNumbers(d);

export class BucketFold {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly step: number) {}

  /** One entry (stream or raw row). */
  addEntry(part: number, pos: string, data: Data): void {
    const n = numbersOf(data);
    this.add(splitEntryId(pos), part, pos, data, n, n);
  }

  /** One rollup row (its own width divides the step). */
  addRollup(row: {
    last_at: number;
    last_part: number;
    last_seq: number;
    last: Data;
    min: Record<string, number>;
    max: Record<string, number>;
  }): void {
    const pos = `${row.last_at}-${row.last_seq}`;
    this.add(
      { ms: row.last_at, seq: row.last_seq },
      row.last_part,
      pos,
      row.last,
      row.min,
      row.max,
    );
  }

  private add(
    id: { ms: number; seq: number },
    part: number,
    pos: string,
    data: Data,
    min: Record<string, number>,
    max: Record<string, number>,
  ): void {
    const bucket = Math.floor(id.ms / this.step) * this.step;
    const subject = subjectOf(data);
    const key = `${subject}\u0000${bucket}`;
    const b = this.buckets.get(key);
    if (!b) {
      this.buckets.set(key, {
        bucket,
        subject,
        at: id.ms,
        part,
        seq: id.seq,
        pos,
        data,
        min: { ...min },
        max: { ...max },
      });
      return;
    }
    for (const [k, v] of Object.entries(min)) b.min[k] = Math.min(b.min[k] ?? v, v);
    for (const [k, v] of Object.entries(max)) b.max[k] = Math.max(b.max[k] ?? v, v);
    const later = id.ms !== b.at ? id.ms > b.at : part !== b.part ? part > b.part : id.seq > b.seq;
    if (later) Object.assign(b, { at: id.ms, part, seq: id.seq, pos, data });
  }

  /** Oldest bucket first (then subject). */
  points(): HistoryPoint[] {
    return [...this.buckets.values()]
      .sort((a, b) => a.bucket - b.bucket || (a.subject < b.subject ? -1 : 1))
      .map((b) => ({
        pos: b.pos,
        part: b.part,
        data: b.data,
        bucket: b.bucket,
        min: b.min,
        max: b.max,
      }));
  }
}

/** Order of raw points: write time, then partition, then sequence. */
export function comparePoints(a: HistoryPoint, b: HistoryPoint): number {
  const x = splitEntryId(a.pos);
  const y = splitEntryId(b.pos);
  return x.ms - y.ms || (a.part ?? 0) - (b.part ?? 0) || x.seq - y.seq;
}

/** At most `limit` points, evenly thinned, the newest always kept. */
export function thin<T>(points: T[], limit: number): { points: T[]; thinned: boolean } {
  if (points.length <= limit) return { points, thinned: false };
  const stride = points.length / limit;
  const out = Array.from({ length: limit }, (_, i) => points[Math.floor(i * stride)]!);
  out[out.length - 1] = points[points.length - 1]!;
  return { points: out, thinned: true };
}
