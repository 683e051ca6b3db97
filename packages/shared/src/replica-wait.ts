import type { ChainableCommander, Redis } from 'ioredis';
import { holdWritesForTurn } from './socket-cork.js';

/** How many replicas must confirm a write before it counts (REDIS_WAIT_REPLICAS), and for how long to wait. */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

export class ReplicaWaitError extends Error {
  constructor(
    readonly confirmed: number,
    readonly wanted: number,
  ) {
    super(`WAIT: ${confirmed} of ${wanted} replicas confirmed the write in time`);
    this.name = 'ReplicaWaitError';
  }
}

/**
 * Run one write, then (when `wait.replicas` > 0) `WAIT replicas timeout` on
 * the same connection: in one pipeline, so on a Cluster the WAIT goes to
 * the master that took the write. Answers the write's reply; throws the
 * write's error, or ReplicaWaitError when too few replicas confirmed (the
 * write happened on the master but may not survive its loss: the caller
 * treats it as failed, and its retry is idempotent).
 */
export async function writeWithWait<T>(
  redis: Redis,
  wait: ReplicaWait | undefined,
  write: (c: Redis | ChainableCommander) => unknown,
): Promise<T> {
  // Without WAIT, the command alone: a one-command pipeline costs about twice the client time.
  if (!wait || wait.replicas === 0) {
    // Writers shared by partitions (the scorer's, the alerter's): the
    // partitions' writes of one loop turn leave in one socket write.
    holdWritesForTurn(redis);
    return (await write(redis)) as T;
  }
  const p = redis.pipeline();
  write(p);
  p.wait(wait.replicas, wait.timeoutMs);
  const res = (await p.exec()) ?? [];
  const [err, reply] = res[0] ?? [new Error('empty pipeline reply'), undefined];
  if (err) throw err;
  if (wait && wait.replicas > 0) {
    const [werr, confirmed] = res[1] ?? [new Error('no WAIT reply'), 0];
    if (werr) throw werr;
    if (Number(confirmed) < wait.replicas)
      throw new ReplicaWaitError(Number(confirmed), wait.replicas);
  }
  return reply as T;
}
