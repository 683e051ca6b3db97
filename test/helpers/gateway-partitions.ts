import {
  encodeEntry,
  partitionOf,
  type AlertEvent,
  type Keys,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';

/** Where an entry was written: its partition and its id in that partition's stream. */
export interface Written {
  part: number;
  pos: string;
}

/** `part/pos`: unique over every partition (a pos alone is unique within one). */
export const at = (w: { part?: number | undefined; pos: string }): string =>
  `${w.part ?? 0}/${w.pos}`;

/** The id an alert is partitioned by: the strategy or host of its subject (`strategy/x`, `host/y`). */
function subjectId(subject: string): string {
  const slash = subject.indexOf('/');
  return slash < 0 ? subject : subject.slice(slash + 1);
}

/**
 * Writes gateway input the way the partitioned pipeline does: a score
 * update to its strategy's partition, a system sample to its host's, an
 * alert event to its subject's (each partition's alerter writes its own
 * stream). For gateway tests that run without the scorer, alerter and
 * collector.
 */
export class PartitionedFeed {
  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    readonly partitions: number,
  ) {}

  partOfScore(u: ScoreUpdate): number {
    return partitionOf(u.strategy, this.partitions);
  }

  partOfSystem(s: SystemSample): number {
    return partitionOf(s.host, this.partitions);
  }

  partOfAlert(a: AlertEvent): number {
    return partitionOf(subjectId(a.subject), this.partitions);
  }

  score(u: ScoreUpdate): Promise<Written> {
    const part = this.partOfScore(u);
    return this.add(this.keys.partition(part).scores, part, u);
  }

  system(s: SystemSample): Promise<Written> {
    const part = this.partOfSystem(s);
    return this.add(this.keys.partition(part).systemSamples, part, s);
  }

  alert(a: AlertEvent): Promise<Written> {
    const part = this.partOfAlert(a);
    return this.add(this.keys.partition(part).alerts, part, a);
  }

  private async add(stream: string, part: number, message: unknown): Promise<Written> {
    const pos = (await this.redis.xadd(stream, '*', ...encodeEntry(message))) as string;
    return { part, pos };
  }
}

/** Group positions by partition, each list in arrival order. */
export function byPartition(
  items: readonly { part?: number | undefined; pos: string }[],
): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const i of items) {
    const part = i.part ?? 0;
    const list = out.get(part) ?? [];
    list.push(i.pos);
    out.set(part, list);
  }
  return out;
}
