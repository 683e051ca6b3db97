import type { ChainableCommander, Redis } from 'ioredis';
import { z } from 'zod';
import { keysFor, STREAM_MAXLEN, type Keys } from './keys.js';
import { isCluster } from './redis.js';
import { ensurePartitionCount, partitionOf } from './partition.js';
import { writeWithWait, type ReplicaWait } from './replica-wait.js';
import { StrategySampleInput, type StrategySample } from './schemas/strategy-sample.js';
import { APPEND_SCRIPT } from './ingest-script.js';
import { encodeEntry } from './stream-codec.js';
import { corkedWrites } from './socket-cork.js';

export class SampleValidationError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid samples: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'SampleValidationError';
  }
}

/** Every issue of a batch, with paths like `[3].return`. */
export function sampleIssues(error: z.ZodError): { path: string; message: string }[] {
  const out = new Map<string, { path: string; message: string }>();
  for (const i of error.issues) {
    const path =
      i.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '') || '(root)';
    // Two checks can fail with one message (a nanosecond ts: too big, and past 2^53): say it once.
    out.set(`${path}\n${i.message}`, { path, message: i.message });
  }
  return [...out.values()];
}

/** Validate inputs and stamp them for the stream; throws SampleValidationError naming every bad field. */
export function normaliseSamples(inputs: unknown[], receivedAt: number): StrategySample[] {
  const parsed = z.array(StrategySampleInput).safeParse(inputs);
  if (!parsed.success) throw new SampleValidationError(sampleIssues(parsed.error));
  return parsed.data.map((s) => ({ ...s, receivedAt }));
}

export interface AppendOptions {
  /**
   * A sample up to this many ms older than its strategy's latest written
   * sample is still written (counted `late`); an older one is skipped as
   * out of order. 0 (default): per-strategy timestamps never go backwards.
   */
  orderToleranceMs?: number;
  /**
   * How long a written sample id is remembered for idempotency, at least
   * (default one day): marks live in generations of this length, so an id
   * is remembered between one and two TTLs.
   */
  idempotencyTtlSeconds?: number;
  /** The pipeline's partition count P (ensurePartitionCount); default 1 (a pipeline of one partition). */
  partitions?: number;
  /**
   * REDIS_WAIT_REPLICAS: each partition's write is followed by WAIT in the
   * same pipeline (so on a Cluster it reaches the master that took the
   * write); a share too few replicas confirmed in time counts as not
   * written (the batch throws PartitionWriteError, and its retry is
   * idempotent).
   */
  replicaWait?: ReplicaWait | undefined;
  /**
   * False: do not collect the written samples' stream entry ids
   * (`entryIds` stays empty); the script then answers one short string
   * per call. Default true.
   */
  entryIds?: boolean;
  /** Each partition's samples stream is capped at about this many entries (XTRIM MAXLEN ~ after each write); default STREAM_MAXLEN.strategySamples. */
  maxLen?: number;
}

/** What happened to each sample of a batch, in the caller's order. */
export type SampleOutcome = 'written' | 'late' | 'duplicate' | 'out-of-order';

export interface AppendResult {
  /** Samples written (including `late` ones). */
  accepted: number;
  /** Skipped: their id was written before (a retried batch). */
  duplicates: number;
  /** Skipped: older than the strategy's latest sample by more than the tolerance. */
  outOfOrder: number;
  /** Written although older than the latest sample, within the tolerance. */
  late: number;
  /** Samples put in ts order inside the batch before writing. */
  reordered: number;
  /** Per sample, in the caller's order. */
  outcomes: SampleOutcome[];
  /** Stream entry ids of the written samples, in stream order within each partition (none when `entryIds: false`). */
  entryIds: string[];
}

export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;

/**
 * Per strategy, the order in which to write a batch: each strategy's
 * samples sorted by ts (stable), kept in the slots that strategy occupies.
 * The batch is written atomically, so no reader ever sees the client's
 * order; the count tells how many samples moved.
 */
export function batchWriteOrder(samples: readonly { strategy: string; ts: number }[]): {
  order: number[];
  reordered: number;
} {
  if (inStrategyOrder(samples)) return { order: samples.map((_, i) => i), reordered: 0 };
  const slots = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const list = slots.get(s.strategy);
    if (list) list.push(i);
    else slots.set(s.strategy, [i]);
  });
  const order = samples.map((_, i) => i);
  let reordered = 0;
  for (const idx of slots.values()) {
    const sorted = [...idx].sort((a, b) => samples[a]!.ts - samples[b]!.ts || a - b);
    idx.forEach((slot, k) => {
      const src = sorted[k]!;
      order[slot] = src;
      if (src !== slot) reordered++;
    });
  }
  return { order, reordered };
}

/**
 * Whether no strategy's ts goes backwards within the batch: what trading
 * systems send, so the write order is the batch's own. One pass and one
 * number per strategy, where sorting each strategy's slots made a list per
 * strategy and a sorted copy of it, per request and again per coalesced
 * write (a sixth of the collector's allocations at the half load: a heap
 * sampling of bench:pipeline, docs/performance.md).
 */
function inStrategyOrder(samples: readonly { strategy: string; ts: number }[]): boolean {
  const latest = new Map<string, number>();
  for (const s of samples) {
    const prev = latest.get(s.strategy);
    if (prev !== undefined && s.ts < prev) return false;
    latest.set(s.strategy, s.ts);
  }
  return true;
}

/** Per share: its per-sample replies, one string of letters, or '!' and its error. */
type ShareReply = string[] | string;

interface AppendCommand {
  quantmonAppendSamples(...keysAndArgs: (string | number)[]): Promise<ShareReply[]>;
}

/**
 * The script as a command of this client and its pipelines (ioredis sends
 * EVAL the first time on a connection, EVALSHA after, and resends on
 * NOSCRIPT). The key count comes first in each call: 3 per partition.
 */
function defineScript(redis: Redis): void {
  if (!(redis as Redis & Partial<AppendCommand>).quantmonAppendSamples) {
    redis.defineCommand('quantmonAppendSamples', { lua: APPEND_SCRIPT });
  }
}

interface Written {
  /** One share's sample indexes. */
  share: number[];
  /** Per sample "w<id>"/"l<id>"/"d"/"o", or one string of those letters. */
  replies: string[] | string;
}

/**
 * A batch that spans partitions was not written whole: some partitions'
 * shares failed (Redis, or one Cluster node, unreachable) while others may
 * have been written. Retrying the same batch with the same ids is safe: the
 * shares already written answer as duplicates, the rest is written.
 */
export class PartitionWriteError extends Error {
  constructor(
    /** The partitions the batch touched. */
    readonly partitions: number[],
    /** Those whose share was not written (or not confirmed). */
    readonly failed: number[],
    partitionCount: number,
    cause: unknown,
  ) {
    const written = partitions.filter((p) => !failed.includes(p));
    super(
      `${failed.length} of the ${partitions.length} partitions this batch spans ` +
        `(of ${partitionCount}) not written (${failed.join(', ')})` +
        (written.length > 0 ? `, written: ${written.join(', ')}` : '') +
        `: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'PartitionWriteError';
  }
}

/**
 * The keys of the last prefix written to: a process writes under one
 * prefix, and building them per call (every key string and each
 * partition's) was ~1 % of the collector's CPU per POST.
 */
let lastKeys: Keys | undefined;
function keysOf(prefix: string): Keys {
  if (lastKeys?.prefix !== prefix) lastKeys = keysFor(prefix);
  return lastKeys;
}

/**
 * Write validated samples idempotently and in per-strategy ts order. The
 * batch is split by partition (a stable hash of the strategy id); each
 * partition's share is written in one atomic step (a Lua script; on a
 * single Redis one script run writes every share, on a Cluster one run per
 * partition on keys of its hash tag, all in parallel). The call resolves only when
 * every partition wrote its share. If any share fails, the call waits
 * until every share has settled and throws PartitionWriteError naming the
 * partitions not written; a retry of the same batch (same ids) writes only
 * what is missing: the shares already written answer as duplicates.
 * (Samples without an id cannot be told apart: a retry writes again those
 * of the shares that were written.)
 *
 * `opts.partitions` must be the pipeline's P (ensurePartitionCount): any
 * other count sends strategies to partitions their scorer does not read.
 */
export async function appendSamples(
  redis: Redis,
  prefix: string,
  samples: StrategySample[],
  opts: AppendOptions = {},
): Promise<AppendResult> {
  const result: AppendResult = {
    accepted: 0,
    duplicates: 0,
    outOfOrder: 0,
    late: 0,
    reordered: 0,
    outcomes: [],
    entryIds: [],
  };
  if (samples.length === 0) return result;
  const keys = keysOf(prefix);
  const partitions = opts.partitions ?? 1;
  const { order, reordered } = batchWriteOrder(samples);
  const shares = new Map<number, number[]>();
  for (const i of order) {
    const p = partitionOf(samples[i]!.strategy, partitions);
    const share = shares.get(p);
    if (share) share.push(i);
    else shares.set(p, [i]);
  }
  const outcomes: SampleOutcome[] = new Array<SampleOutcome>(samples.length);
  defineScript(redis);
  const head = [
    opts.maxLen ?? STREAM_MAXLEN.strategySamples,
    opts.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    opts.orderToleranceMs ?? 0,
    opts.entryIds === false ? '0' : '1',
  ];
  /** One call's arguments: the key count, 3 keys per share, the head, then each share's part. */
  const callArgs = (group: [number, number[]][]): (string | number)[] => {
    const keyArgs: string[] = [];
    const rest: (string | number)[] = [...head];
    for (const [p, share] of group) {
      const pk = keys.partition(p);
      keyArgs.push(pk.strategySamples, pk.ingestLastTs, pk.ingestLegacyMarksUntil);
      rest.push(pk.ingestIdsPrefix, pk.ingestSeenPrefix, share.length);
      for (const i of share) {
        const s = samples[i]!;
        rest.push(s.strategy, String(s.ts), s.id ?? '', encodeEntry(s)[1]);
      }
    }
    return [keyArgs.length, ...keyArgs, ...rest];
  };
  const call = async (group: [number, number[]][]): Promise<ShareReply[]> => {
    const args = callArgs(group);
    // Without WAIT, the command alone: a one-command pipeline costs twice the client time.
    return opts.replicaWait
      ? await writeWithWait<ShareReply[]>(redis, opts.replicaWait, (p) =>
          (p as ChainableCommander & AppendCommand).quantmonAppendSamples(...args),
        )
      : await (redis as Redis & AppendCommand).quantmonAppendSamples(...args);
  };
  // On one Redis every partition's share goes in one call (one script run:
  // ingest-script.ts says why). On a Cluster a call holds one partition
  // (one slot), and all calls leave in one write (see corkedWrites).
  const groups: [number, number[]][][] = isCluster(redis)
    ? [...shares].map((share) => [share])
    : [[...shares]];
  const settled = await Promise.allSettled(corkedWrites(redis, groups, call));
  const touched = [...shares.keys()];
  const written: Written[] = [];
  const failed: number[] = [];
  let cause: unknown;
  settled.forEach((r, k) => {
    groups[k]!.forEach(([p, share], j) => {
      const reply = r.status === 'fulfilled' ? r.value[j] : undefined;
      if (reply !== undefined && !(typeof reply === 'string' && reply.startsWith('!'))) {
        written.push({ share, replies: reply });
        return;
      }
      // A failed call wrote the shares before the failing step whole: none is confirmed.
      failed.push(p);
      cause ??= r.status === 'rejected' ? r.reason : new Error((reply as string).slice(1));
    });
  });
  if (failed.length > 0) throw new PartitionWriteError(touched, failed, partitions, cause);
  for (const { share, replies } of written) {
    for (let k = 0; k < share.length; k++) {
      const i = share[k]!;
      const r = typeof replies === 'string' ? undefined : replies[k]!;
      const kind = r === undefined ? (replies as string)[k] : r[0];
      if (kind === 'w' || kind === 'l') {
        if (r !== undefined) result.entryIds.push(r.slice(1));
        result.accepted++;
        if (kind === 'l') result.late++;
        outcomes[i] = kind === 'w' ? 'written' : 'late';
      } else if (kind === 'd') {
        result.duplicates++;
        outcomes[i] = 'duplicate';
      } else {
        result.outOfOrder++;
        outcomes[i] = 'out-of-order';
      }
    }
  }
  result.reordered = reordered;
  result.outcomes = outcomes;
  return result;
}

/**
 * The entry ids of the written samples (duplicates and out-of-order
 * samples are skipped). Kept for callers of the first version; new code
 * calls `appendSamples` for the full result.
 */
export async function writeSamples(
  redis: Redis,
  prefix: string,
  samples: StrategySample[],
  opts: AppendOptions = {},
): Promise<string[]> {
  return (await appendSamples(redis, prefix, samples, opts)).entryIds;
}

export interface PublishOptions extends AppendOptions {
  prefix?: string;
}

/**
 * For trading systems in Node that prefer writing to Redis directly: the
 * same schema, stream, idempotency and ordering as `POST /v1/samples`.
 * Returns the full result (counts and per-sample outcomes).
 */
export async function publishSampleBatch(
  redis: Redis,
  samples: unknown[],
  opts: PublishOptions = {},
): Promise<AppendResult> {
  const prefix = opts.prefix ?? 'quantmon';
  const partitions =
    opts.partitions ?? (await ensurePartitionCount(redis, keysFor(prefix), undefined));
  return appendSamples(redis, prefix, normaliseSamples(samples, Date.now()), {
    ...opts,
    partitions,
  });
}

/**
 * `publishSampleBatch`, answering the stream entry ids of the samples
 * written (a duplicate or out-of-order sample has none).
 */
export async function publishSamples(
  redis: Redis,
  samples: unknown[],
  opts: PublishOptions = {},
): Promise<string[]> {
  return (await publishSampleBatch(redis, samples, opts)).entryIds;
}
