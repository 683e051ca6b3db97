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
 * (strategy, update JSON) pairs.
 */
const WRITE_LUA = `${FENCE_LUA}
${setPositionsLua(3)}
local at = 3 + 2 + npos * 4
for i = at, #ARGV, 2 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', '${DATA_FIELD}', ARGV[i + 1])
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
return (#ARGV - at + 1) / 2`;

interface WriteCommand {
  quantmonWriteScores(...args: (string | number)[]): unknown;
}

/** Defines the script once per connection; pipelines made afterwards have it too. */
function defineScript(redis: Redis): void {
  if (!(redis as Redis & Partial<WriteCommand>).quantmonWriteScores) {
    redis.defineCommand('quantmonWriteScores', { numberOfKeys: 4, lua: WRITE_LUA });
  }
}

/** A serialised update: the same JSON is the stream entry and the latest mark. */
export interface EncodedUpdate {
  strategy: string;
  json: string;
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
  for (const u of updates) args.push(u.strategy, u.json);
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
