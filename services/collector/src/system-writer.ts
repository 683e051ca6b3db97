import {
  abortableSleep,
  encodeEntry,
  partitionOf,
  STREAM_MAXLEN,
  SystemSample,
  type Keys,
  type Logger,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';

/** Where a host sample goes: its partition's system-samples stream, and the global latest hash. */
export function systemSampleKeys(
  keys: Keys,
  partitions: number,
  host: string,
): { stream: string; latest: string } {
  return {
    stream: keys.partition(partitionOf(host, partitions)).systemSamples,
    latest: keys.latestSystem,
  };
}

/**
 * Write one host sample: XADD to the system-samples stream of the host's
 * partition (a stable hash of the host id, as strategies are hashed), then
 * HSET of the global latest-system hash. Two commands, not one MULTI: on a
 * Cluster the two keys live in different slots. The stream is the record
 * the alerter and gateways read; the hash is a snapshot that the next
 * sample overwrites, so a failure between the two leaves it one interval
 * old at worst.
 */
export async function writeSystemSample(
  redis: Redis,
  keys: Keys,
  partitions: number,
  sample: SystemSample,
): Promise<string> {
  const { stream, latest } = systemSampleKeys(keys, partitions, sample.host);
  const [field, json] = encodeEntry(sample);
  const id = await redis.xadd(stream, 'MAXLEN', '~', STREAM_MAXLEN.systemSamples, '*', field, json);
  await redis.hset(latest, sample.host, json);
  return id ?? '';
}

export interface SystemWriterOptions {
  redis: Redis;
  keys: Keys;
  partitions: number;
  intervalMs: number;
  /** The first readings of every rate (before the first sample). */
  prime: (now: number) => Promise<void>;
  /** Measure one sample at `now`. */
  measure: (now: number) => Promise<SystemSample>;
  log: Logger;
  onWritten?: () => void;
  onError?: (err: unknown) => void;
}

/**
 * The collector's host-sample loop: one sample per interval on a fixed
 * cadence (a slow sample never overlaps the next), validated against the
 * schema before it is written. A sample that cannot be measured or written
 * is logged and counted, and the loop goes on. Resolves once `signal`
 * aborts and the sample in progress is done.
 */
export async function runSystemWriter(o: SystemWriterOptions, signal: AbortSignal): Promise<void> {
  await o.prime(Date.now());
  await abortableSleep(Math.min(o.intervalMs, 1000), signal);
  while (!signal.aborted) {
    const started = Date.now();
    try {
      const sample = SystemSample.parse(await o.measure(started));
      await writeSystemSample(o.redis, o.keys, o.partitions, sample);
      o.onWritten?.();
    } catch (err) {
      o.onError?.(err);
      o.log.warn({ err }, 'host sample failed');
    }
    await abortableSleep(Math.max(0, o.intervalMs - (Date.now() - started)), signal);
  }
}
