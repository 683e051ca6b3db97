import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/**
 * FNV-1a (32 bit) of the UTF-8 bytes: stable across processes, versions and
 * languages (a trading system can compute it too), cheap, and well spread
 * for short ids. Never change it: every stored sample's partition hangs on it.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * MurmurHash3's 32-bit finaliser: every input bit flips about half the
 * output bits, so ids that differ in one character (strat-1, strat-2) land
 * in unrelated partitions even when P is a power of two.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The partition of a strategy (or host) id among P: fmix32(fnv1a32(utf8
 * bytes)) mod P. Part of the stored layout: changing it would send a
 * strategy's samples away from the partition that holds its window.
 */
export function partitionOf(id: string, partitions: number): number {
  return partitions === 1 ? 0 : fmix32(fnv1a32(id)) % partitions;
}

/** 0 .. P-1. */
export function allPartitions(partitions: number): number[] {
  return Array.from({ length: partitions }, (_, p) => p);
}

export class PartitionCountMismatch extends Error {
  constructor(
    readonly stored: number,
    readonly configured: number,
    key: string,
  ) {
    super(
      `this pipeline was created with PARTITIONS=${stored} (stored in Redis at ${key}), ` +
        `but this process has PARTITIONS=${configured}. Every process of one pipeline must use ` +
        `the same partition count: set PARTITIONS=${stored}, or repartition as docs/scaling.md ` +
        `describes (a new QUANTMON_PREFIX with the new count, then move producers over).`,
    );
    this.name = 'PartitionCountMismatch';
  }
}

/** P of a new pipeline when PARTITIONS is not set. */
export const DEFAULT_PARTITIONS = 8;

/**
 * Fix P for this pipeline the first time any process starts (SET NX) and
 * answer the pipeline's P. A process configured with another P is refused:
 * its hash would send a strategy's samples to another partition than the
 * one holding its window. Unconfigured (undefined), it adopts the stored P.
 */
export async function ensurePartitionCount(
  redis: Redis,
  keys: Keys,
  configured: number | undefined,
): Promise<number> {
  await redis.set(keys.partitionCount, String(configured ?? DEFAULT_PARTITIONS), 'NX');
  const stored = Number(await redis.get(keys.partitionCount));
  if (!Number.isInteger(stored) || stored < 1) {
    throw new Error(`${keys.partitionCount} holds ${stored}, not a partition count`);
  }
  if (configured !== undefined && stored !== configured) {
    throw new PartitionCountMismatch(stored, configured, keys.partitionCount);
  }
  return stored;
}
