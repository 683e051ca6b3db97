import {
  asFenced,
  DATA_FIELD,
  FENCE_LUA,
  positionArgs,
  setPositionsLua,
  STREAM_MAXLEN,
  writeWithWait,
  type Lease,
  type ReplicaWait,
  type PartitionKeys,
  type ScoreUpdate,
  type StreamPosition,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';

/**
 * One atomic, fenced step per batch: check the partition's lease, move the
 * scorer group past the batch, append each score update to the scores
 * stream and set it as the strategy's latest. Refused as a whole (FENCED)
 * when the writer no longer holds the lease: a paused or cut-off scorer
 * can never double-write. Every key carries the partition's hash tag.
 *
 * KEYS: lease, scores stream, latest hash, samples stream.
 * ARGV: token, MAXLEN, the position block (setPositionsLua), then
 * (strategy, update JSON, latest JSON or '' for the same) triples.
 */
const WRITE_LUA = `${FENCE_LUA}
${setPositionsLua(3)}
local at = 3 + 2 + npos * 4
for i = at, #ARGV, 3 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', '${DATA_FIELD}', ARGV[i + 1])
  local latest = ARGV[i + 2]
  redis.call('HSET', KEYS[3], ARGV[i], latest ~= '' and latest or ARGV[i + 1])
end
return (#ARGV - at + 1) / 3`;

interface WriteCommand {
  quantmonWriteScores(...args: (string | number)[]): unknown;
}

/** Defines the script once per connection; pipelines made afterwards have it too. */
function defineScript(redis: Redis): void {
  if (!(redis as Redis & Partial<WriteCommand>).quantmonWriteScores) {
    redis.defineCommand('quantmonWriteScores', { numberOfKeys: 4, lua: WRITE_LUA });
  }
}

/** A serialised update: the stream entry, and the strategy's latest state when that differs. */
export interface EncodedUpdate {
  strategy: string;
  /** The whole update: the scores stream's entry. */
  json: string;
  /** The latest-scores hash's value; absent: `json`. */
  latest?: string;
}

/**
 * The scores stream gets the whole update; the latest-scores hash the same
 * without `span`. A span holds the extremes of the samples between the
 * previous update and this one: what a reader of the stream judges (the
 * alerter's rules), and nothing to a reader of the latest state (a restart's
 * replay needs the counts, a new dashboard the state). It is more than half
 * of a conflated update's bytes, and Redis appends both copies to its AOF,
 * where score updates were over 80 % of the bytes at moderate rates
 * (docs/operations.md, "Redis's AOF"). No byte is stringified twice: the
 * span's JSON is appended to the state's (so it is the entry's last key).
 */
export function encodeUpdate(u: ScoreUpdate): EncodedUpdate {
  if (u.span === undefined) return { strategy: u.strategy, json: JSON.stringify(u) };
  const { span, ...state } = u;
  const latest = JSON.stringify(state);
  return {
    strategy: u.strategy,
    json: `${latest.slice(0, -1)},"span":${JSON.stringify(span)}}`,
    latest,
  };
}

/**
 * Write a batch's updates and its group position, fenced by `lease`.
 * Throws FencedError when fenced; with `wait`, ReplicaWaitError when too few
 * replicas confirmed (the retry of the same batch is recognised: see
 * setPositionsLua).
 */
export async function writeScores(
  redis: Redis,
  pk: PartitionKeys,
  lease: Lease,
  group: string,
  positions: readonly StreamPosition[],
  updates: readonly EncodedUpdate[],
  wait?: ReplicaWait,
): Promise<void> {
  const args: (string | number)[] = [
    lease.token,
    STREAM_MAXLEN.scores,
    ...positionArgs(group, positions, () => 4),
  ];
  for (const u of updates) args.push(u.strategy, u.json, u.latest ?? '');
  defineScript(redis);
  try {
    await writeWithWait(redis, wait, (p) =>
      (p as typeof p & WriteCommand).quantmonWriteScores(
        pk.lease('scorer'),
        pk.scores,
        pk.latestScores,
        pk.strategySamples,
        ...args,
      ),
    );
  } catch (err) {
    throw asFenced(err);
  }
}
