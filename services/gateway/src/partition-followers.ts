import {
  allPartitions,
  followStreams,
  isCluster,
  type Keys,
  type Logger,
  type RawEntry,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { RESUME_STREAMS, streamKey } from './topics.js';

export interface PartitionFollowersOptions {
  /** Decides the topology (one Redis or a Cluster); not used for reading. */
  redis: Redis;
  /** A new blocking connection of its own (XREAD BLOCK holds it). */
  connect: (name: string) => Redis;
  keys: Keys;
  partitions: number;
  /** Stream key -> the id to read after, for every stream of every partition. */
  from: Readonly<Record<string, string>>;
  onEntries: (stream: string, entries: RawEntry[]) => void | Promise<void>;
  signal: AbortSignal;
  log: Logger;
}

export interface PartitionFollowers {
  /** The reading connections (for health and shutdown). */
  readers: Redis[];
  /** Settles when every loop has stopped (after the signal). */
  done: Promise<void>;
}

/**
 * Follow the scores, system-samples and alerts streams of every partition
 * with plain XREAD (every gateway sees everything). On one Redis, one XREAD
 * covers all 3 x P streams on one connection. On a Cluster one XREAD may
 * only name keys of one slot, and a blocking read holds its node
 * connection: one follower per partition (its three streams share the
 * partition's hash tag), each on a connection of its own.
 */
export function followPartitions(opts: PartitionFollowersOptions): PartitionFollowers {
  const groups = isCluster(opts.redis)
    ? allPartitions(opts.partitions).map((p) => ({ name: `p${p}`, parts: [p] }))
    : [{ name: 'all', parts: allPartitions(opts.partitions) }];
  const readers: Redis[] = [];
  const loops = groups.map((g) => {
    const reader = opts.connect(`gateway-reader-${g.name}`);
    readers.push(reader);
    const from: Record<string, string> = {};
    for (const p of g.parts) {
      for (const s of RESUME_STREAMS) {
        const key = streamKey(opts.keys, s, p);
        from[key] = opts.from[key] ?? '$';
      }
    }
    return followStreams({
      redis: reader,
      from,
      signal: opts.signal,
      log: opts.log.child({ readers: g.name }),
      onEntries: opts.onEntries,
    });
  });
  return { readers, done: Promise.all(loops).then(() => undefined) };
}
