import type { PartitionPositions, ResumePosition } from '@quantmon/shared';
import { maxId } from './stream-pos.js';

/**
 * Positions in a partitioned stream: one stream id per partition, held as
 * an array indexed by partition and written on the wire as a record
 * `{"0": "<id>", "1": "<id>"}`. Pure helpers for snapshots and resume.
 */

/** The wire form of per-partition positions. */
export function positionsRecord(ids: readonly string[]): PartitionPositions {
  const out: PartitionPositions = {};
  ids.forEach((id, part) => (out[String(part)] = id));
  return out;
}

/** The newest of several positions (`0-0` for none): a single `pos` for display. */
export function newestOf(ids: readonly string[]): string {
  return ids.reduce(maxId, '0-0');
}

/**
 * Where a client says it stands in one stream of `partitions` partitions:
 * - undefined: no position (the client gets a snapshot);
 * - one id per partition: resume each partition after its id;
 * - 'partitioned': the positions cannot say where the client stands in
 *   every partition (a single id while there are several partitions, a
 *   partition missing, or one that does not exist). Resuming some
 *   partitions and snapshotting the others would mix two states in one
 *   topic, so the whole topic is reset.
 * With one partition, the single-id form resumes exactly as before.
 */
export function sinceFor(
  value: ResumePosition | undefined,
  partitions: number,
): string[] | 'partitioned' | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return partitions === 1 ? [value] : 'partitioned';
  const ids: string[] = [];
  for (let part = 0; part < partitions; part++) {
    const id = value[String(part)];
    if (id === undefined) return 'partitioned';
    ids.push(id);
  }
  return Object.keys(value).length === partitions ? ids : 'partitioned';
}
