import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { isCluster } from './redis.js';

/**
 * The pipeline's own errors, counted where they happen and read by the
 * collector for the error rate. Each error is an INCRBY on a key per epoch
 * second that expires after two minutes: writers pay one round trip per
 * error, the reader sums the last 60 keys with one MGET (60 GETs sent at
 * once on a Cluster), and memory stays at most ~120 small keys whatever the
 * error volume.
 *
 * What counts as a pipeline error: an entry dead-lettered (it failed its
 * schema or its handler), a consumer loop failure, a failed emergency
 * enqueue, an ingest request answered 5xx, a host sample that could not be
 * written. Requests a client got wrong (4xx) are the client's errors, not
 * the pipeline's, and are not counted.
 */

/** Buckets outlive the one-minute window comfortably. */
export const PIPELINE_ERROR_TTL_SECONDS = 120;
/** The window the collector sums over. */
export const PIPELINE_ERROR_WINDOW_SECONDS = 60;

/**
 * Count `n` errors now. Never throws and never waits on a dead Redis for
 * long: reporting an error must not become another error.
 */
export async function recordPipelineError(
  redis: Redis,
  keys: Keys,
  n = 1,
  now = Date.now(),
): Promise<void> {
  const key = keys.pipelineErrors(Math.floor(now / 1000));
  try {
    await redis.multi().incrby(key, n).expire(key, PIPELINE_ERROR_TTL_SECONDS).exec();
  } catch {
    // Redis unreachable: the error is already logged by the caller.
  }
}

/**
 * Errors over the `windowSeconds` seconds up to and including the current
 * second: one MGET on a single Redis. On a Cluster the per-second keys
 * hash to different slots (MGET would answer CROSSSLOT), so each is read
 * with its own GET, all sent at once.
 */
export async function readPipelineErrors(
  redis: Redis,
  keys: Keys,
  now = Date.now(),
  windowSeconds = PIPELINE_ERROR_WINDOW_SECONDS,
): Promise<number> {
  const last = Math.floor(now / 1000);
  const names: string[] = [];
  for (let s = last - windowSeconds + 1; s <= last; s++) names.push(keys.pipelineErrors(s));
  const values = isCluster(redis)
    ? await Promise.all(names.map((n) => redis.get(n)))
    : await redis.mget(...names);
  let total = 0;
  for (const v of values) if (v !== null) total += Number(v) || 0;
  return total;
}
