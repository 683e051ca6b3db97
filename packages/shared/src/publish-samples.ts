import type { ChainableCommander, Redis } from 'ioredis';
import { z } from 'zod';
import { keysFor, STREAM_MAXLEN } from './keys.js';
import { ensurePartitionCount, partitionOf } from './partition.js';
import { writeWithWait, type ReplicaWait } from './replica-wait.js';
import { StrategySampleInput, type StrategySample } from './schemas/strategy-sample.js';
import { DATA_FIELD, encodeEntry } from './stream-codec.js';

export class SampleValidationError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid samples: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'SampleValidationError';
  }
}

/** Every issue of a batch, with paths like `[3].return`. */
export function sampleIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path:
      i.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '') || '(root)',
    message: i.message,
  }));
}

/** Validate inputs and stamp them for the stream; throws SampleValidationError naming every bad field. */
export function normaliseSamples(inputs: unknown[], receivedAt: number): StrategySample[] {
  const parsed = z.array(StrategySampleInput).safeParse(inputs);
  if (!parsed.success) throw new SampleValidationError(sampleIssues(parsed.error));
  return parsed.data.map((s) => ({ ...s, receivedAt }));
}

/**
 * One atomic step per partition's share of a batch, in a Lua script: for
 * each sample (in the order given) skip it when its id was marked before
 * (idempotency), else mark it; skip it and drop the new mark when its ts is
 * more than the tolerance before the strategy's latest (ordering), else
 * XADD it and advance the strategy's latest ts. Replies one string per
 * sample: "w<entry id>" written, "l<entry id>" written late (within the
 * tolerance), "d" duplicate, "o" out of order; or, when the caller needs
 * no entry ids, one string of those letters, one per sample (the
 * collector: one bulk string per call to encode, send and parse instead of
 * one per sample).
 *
 * The marks are members of one set per strategy and generation: a
 * generation is TTL seconds of Redis's clock (floor(TIME / TTL)); an id is
 * looked up in the previous generation's set (SISMEMBER) and added (SADD)
 * to the current one, and each set expires at the end of the generation
 * after its own. So an id is remembered at least TTL seconds and at most
 * twice that. Why not one key per id (SET NX EX, the first layout): each
 * such key is an entry in Redis's keyspace and in its expiry table, which
 * the active expiry cycle keeps sampling: a day of ids at 1,000 samples/s
 * is 86 M of each, ~133 B a mark against ~59 B for a set member; a set
 * member is also cheaper to add, and one expiry per strategy replaces one
 * per sample (docs/performance.md). Why
 * a set and not a hash: Redis keeps a hash of up to 512 fields
 * (hash-max-listpack-entries) as a flat list it scans on every HSETNX,
 * which cost ~25,000 instructions per mark against ~6,000 for SADD
 * (counted under callgrind, docs/performance.md). A set of ids is a hash
 * table from its first member on Redis 7.0; 7.2 and later keep sets of up
 * to 128 members as a flat list too, a scan a quarter as long.
 *
 * After an upgrade from the first layout, its marks (a string key per id)
 * are also checked until one TTL has passed since this layout's first
 * write on the partition, so a batch retried across the upgrade is still
 * written once; on a new pipeline (no sample written yet) never.
 *
 * Redis does not roll a script back on an error: a failing XADD
 * (WRONGTYPE, OOM) drops the mark it just set and stores the latest ts of
 * what was written before answering the error, so what the script wrote
 * stays consistent (written samples marked, nothing marked that was not
 * written) and a retry with the same ids writes exactly the rest.
 *
 * KEYS[1] stream, KEYS[2] last-ts hash, KEYS[3] legacy-marks-until. ARGV:
 * mark-set prefix, legacy mark prefix, MAXLEN, TTL seconds, tolerance ms,
 * '1' to answer entry ids ('0': letters only), then strategy, ts, id (''
 * for none), JSON per sample. Timestamps are compared as numbers (exact
 * below 2^53) and stored as the strings given, so no precision is lost in
 * Lua's number format. The mark keys are built
 * inside the script from prefixes that carry the partition's hash tag:
 * they share the slot of KEYS[1], so the script is legal on a Redis
 * Cluster.
 */
const APPEND_SCRIPT = `
local stream, lastKey, legacyKey = KEYS[1], KEYS[2], KEYS[3]
local ids, seen, maxlen = ARGV[1], ARGV[2], ARGV[3]
local ttl, tol = tonumber(ARGV[4]), tonumber(ARGV[5])
local withIds = ARGV[6] == '1'
-- The generation and the upgrade window, read when the first sample with an
-- id needs them: a call without ids does not pay for them.
local curPrefix, prevPrefix, expireAt, legacy
local function generation()
  local now = tonumber(redis.call('TIME')[1])
  local gen = math.floor(now / ttl)
  curPrefix = ids .. string.format('%d', gen) .. ':'
  prevPrefix = ids .. string.format('%d', gen - 1) .. ':'
  expireAt = string.format('%d', (gen + 2) * ttl)
  local legacyUntil = redis.call('GET', legacyKey)
  if not legacyUntil then
    -- The first layout wrote the last-ts hash and stream entries; the scorer's
    -- group creation (MKSTREAM) makes an empty stream, which is not an upgrade.
    local len = redis.pcall('XLEN', stream)
    local upgrade = redis.call('EXISTS', lastKey) == 1 or (type(len) == 'number' and len > 0)
    legacyUntil = upgrade and string.format('%d', now + ttl) or '0'
    redis.call('SET', legacyKey, legacyUntil)
  end
  legacy = now < tonumber(legacyUntil)
end
local last, dirty, out, written = {}, {}, {}, false
-- curKey[strategy]: its current set; expire[strategy]: that set was made
-- by this call, so it needs its expiry. A set that existed already has one
-- (and keeps a member: unmark removes only ids added by this call): no
-- EXPIREAT (a write, and an AOF entry) per strategy per call.
local curKey, expire = {}, {}
local function flush()
  for s, v in pairs(dirty) do redis.call('HSET', lastKey, s, v) end
  for s in pairs(expire) do redis.call('EXPIREAT', curKey[s], expireAt) end
end
-- True when the id was marked before; else marks it.
local function marked(strategy, id)
  if not curPrefix then generation() end
  if redis.call('SISMEMBER', prevPrefix .. strategy, id) == 1 then return true end
  if legacy and redis.call('EXISTS', seen .. strategy .. ':' .. id) == 1 then return true end
  local k = curKey[strategy]
  if k == nil then
    k = curPrefix .. strategy
    curKey[strategy] = k
    if redis.call('EXISTS', k) == 0 then expire[strategy] = true end
  end
  return redis.call('SADD', k, id) == 0
end
local function unmark(strategy, id)
  redis.call('SREM', curKey[strategy], id)
end
for i = 7, #ARGV, 4 do
  local strategy, tsStr, id, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ts = tonumber(tsStr)
  local r
  local hasId = id ~= ''
  if hasId and marked(strategy, id) then
    r = 'd'
  else
    local prev = last[strategy]
    if prev == nil then
      local stored = redis.call('HGET', lastKey, strategy)
      prev = stored and tonumber(stored) or -1
      last[strategy] = prev
    end
    if ts < prev - tol then
      if hasId then unmark(strategy, id) end -- not written: the id stays free
      r = 'o'
    else
      local entry = redis.pcall('XADD', stream, '*', '${DATA_FIELD}', data)
      if type(entry) == 'table' and entry.err then
        if written then redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen) end
        if hasId then unmark(strategy, id) end
        flush()
        return entry
      end
      written = true
      if ts >= prev then
        if ts > prev then dirty[strategy] = tsStr end
        last[strategy] = ts
        r = withIds and 'w' .. entry or 'w'
      else
        r = withIds and 'l' .. entry or 'l'
      end
    end
  end
  out[#out + 1] = r
end
flush()
-- The length cap once per call, not per XADD: MAXLEN on every XADD cost
-- Redis a quarter of the XADD (bench:ingest-instructions, docs/performance.md).
-- Both trim whole nodes (~), so the cap is as approximate as before.
if written then redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen) end
if withIds then return out end
return table.concat(out)
`;

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

interface AppendCommand {
  quantmonAppendSamples(...keysAndArgs: (string | number)[]): Promise<string[] | string>;
}

/**
 * The script as a command of this client and its pipelines (ioredis sends
 * EVAL the first time on a connection, EVALSHA after, and resends on
 * NOSCRIPT).
 */
function defineScript(redis: Redis): void {
  if (!(redis as Redis & Partial<AppendCommand>).quantmonAppendSamples) {
    redis.defineCommand('quantmonAppendSamples', { numberOfKeys: 3, lua: APPEND_SCRIPT });
  }
}

interface Written {
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
 * Write validated samples idempotently and in per-strategy ts order. The
 * batch is split by partition (a stable hash of the strategy id); each
 * partition's share is written in one atomic step (a Lua script on keys of
 * one hash tag), all partitions in parallel. The call resolves only when
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
  const keys = keysFor(prefix);
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
  const settled = await Promise.allSettled(
    [...shares].map(async ([p, share]) => {
      const pk = keys.partition(p);
      const args: (string | number)[] = [
        pk.strategySamples,
        pk.ingestLastTs,
        pk.ingestLegacyMarksUntil,
        pk.ingestIdsPrefix,
        pk.ingestSeenPrefix,
        opts.maxLen ?? STREAM_MAXLEN.strategySamples,
        opts.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
        opts.orderToleranceMs ?? 0,
        opts.entryIds === false ? '0' : '1',
      ];
      for (const i of share) {
        const s = samples[i]!;
        args.push(s.strategy, String(s.ts), s.id ?? '', encodeEntry(s)[1]);
      }
      // Without WAIT, the command alone: a one-command pipeline costs twice the client time.
      const replies = opts.replicaWait
        ? await writeWithWait<string[] | string>(redis, opts.replicaWait, (p) =>
            (p as ChainableCommander & AppendCommand).quantmonAppendSamples(...args),
          )
        : await (redis as Redis & AppendCommand).quantmonAppendSamples(...args);
      const written: Written = { share, replies };
      return written;
    }),
  );
  const touched = [...shares.keys()];
  const written: Written[] = [];
  const failed: number[] = [];
  let cause: unknown;
  settled.forEach((r, k) => {
    if (r.status === 'fulfilled') written.push(r.value);
    else {
      failed.push(touched[k]!);
      cause ??= r.reason;
    }
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
