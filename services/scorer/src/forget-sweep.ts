import {
  asFenced,
  FENCE_LUA,
  parseJson,
  RetireRequest,
  type Lease,
  type Logger,
  type PartitionKeys,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { ScorerCore } from './scorer-core.js';

/** Strategies per fenced script call and per HSCAN slice: no long Redis or event-loop stall. */
const SLICE = 500;

/**
 * Forget idle strategies, fenced. For each (strategy, ts of the last sample
 * the scorer applied): when ingest has since written a newer sample (its
 * last-ts mark is past that ts) the strategy is busy again and kept;
 * otherwise its latest score and ingest mark go. Returns the forgotten.
 *
 * KEYS: lease, latest scores hash, ingest last-ts hash. ARGV: token, then
 * (strategy, last ts) pairs.
 */
const IDLE_LUA = `${FENCE_LUA}
local out = {}
for i = 2, #ARGV, 2 do
  local mark = redis.call('HGET', KEYS[3], ARGV[i])
  if not (mark and tonumber(mark) > tonumber(ARGV[i + 1])) then
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
    out[#out + 1] = ARGV[i]
  end
end
return out`;

/**
 * Apply retirements, fenced: drop each strategy's latest score and ingest
 * mark, take its request off the scorer's retire hash and hand it to the
 * alerter's with the scores stream's last id (RetireRequest.scoresId).
 *
 * KEYS: lease, latest scores hash, ingest last-ts hash, scorer retire hash,
 * alerter retire hash, scores stream. ARGV: token, then (strategy, request
 * JSON without its closing brace) pairs.
 */
const RETIRE_LUA = `${FENCE_LUA}
local last = redis.call('XREVRANGE', KEYS[6], '+', '-', 'COUNT', 1)
local scoresId = (last[1] and last[1][1]) or '0-0'
for i = 2, #ARGV, 2 do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[4], ARGV[i])
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1] .. ',"scoresId":"' .. scoresId .. '"}')
end
return (#ARGV - 1) / 2`;

interface SweepCommands {
  quantmonForgetIdle(...args: (string | number)[]): Promise<string[]>;
  quantmonRetire(...args: (string | number)[]): Promise<number>;
}

function defineScripts(redis: Redis): Redis & SweepCommands {
  const r = redis as Redis & Partial<SweepCommands>;
  if (!r.quantmonForgetIdle) {
    redis.defineCommand('quantmonForgetIdle', { numberOfKeys: 3, lua: IDLE_LUA });
    redis.defineCommand('quantmonRetire', { numberOfKeys: 6, lua: RETIRE_LUA });
  }
  return redis as Redis & SweepCommands;
}

export interface ForgetSweepDeps {
  redis: Redis;
  pk: PartitionKeys;
  lease: Lease;
  core: ScorerCore;
  /** IDLE_FORGET_AFTER in ms; 0: only retirements are applied. */
  afterMs: number;
  log: Logger;
  onForgotten?: (reason: 'idle' | 'retired', n: number) => void;
}

/** What the latest-scores hash says of a strategy the windows do not hold. */
interface Orphan {
  receivedAt: number;
  ts: number;
}

/**
 * The scorer's forgetting for one term of one partition. The caller runs
 * `retire` and `idle` between batches (never concurrently with a score
 * write: a sweep and a write see the same windows), and `scanOrphans` once
 * after the replay, outside that lock.
 *
 * Idle: a strategy whose last sample was received IDLE_FORGET_AFTER ago
 * loses its window, its latest score (so a restart's replay does not
 * restore it: replay.ts restores only strategies the hash holds) and its
 * ingest ordering mark. Orphans, strategies the hash holds but the replay
 * found no samples for (trimmed from the stream), are tracked from the
 * hash so they are forgotten too.
 */
export class ForgetSweep {
  private readonly orphans = new Map<string, Orphan>();
  private readonly redis: Redis & SweepCommands;

  constructor(private readonly deps: ForgetSweepDeps) {
    this.redis = defineScripts(deps.redis);
  }

  /** Strategies tracked only through the hash (see the class comment). */
  get orphanCount(): number {
    return this.orphans.size;
  }

  /** HSCAN the latest-scores hash in slices for strategies the windows lack. */
  async scanOrphans(): Promise<void> {
    const { redis, pk, core, lease } = this.deps;
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(pk.latestScores, cursor, 'COUNT', SLICE);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const strategy = flat[i]!;
        if (core.has(strategy)) continue;
        const o = orphanOf(flat[i + 1]!);
        if (o) this.orphans.set(strategy, o);
      }
    } while (cursor !== '0' && !lease.signal.aborted);
  }

  /** Apply the retirements waiting for this partition's scorer. */
  async retire(): Promise<number> {
    const { pk, lease, core, log } = this.deps;
    const raw = await this.redis.hgetall(pk.retire('scorer'));
    const args: string[] = [];
    for (const [strategy, json] of Object.entries(raw)) {
      const req = parseJson(json, RetireRequest);
      // An unreadable request still retires: who asked is then unknown.
      const handed = JSON.stringify({ by: req?.by ?? 'unknown', at: req?.at ?? Date.now() });
      args.push(strategy, handed.slice(0, -1));
    }
    if (args.length === 0) return 0;
    try {
      await this.redis.quantmonRetire(
        ...[pk.lease('scorer'), pk.latestScores, pk.ingestLastTs, pk.retire('scorer')],
        ...[pk.retire('alerter'), pk.scores, lease.token],
        ...args,
      );
    } catch (err) {
      throw asFenced(err);
    }
    const n = args.length / 2;
    for (let i = 0; i < args.length; i += 2) {
      core.forget(args[i]!);
      this.orphans.delete(args[i]!);
    }
    log.info({ strategies: args.filter((_, i) => i % 2 === 0) }, 'retired strategies');
    this.deps.onForgotten?.('retired', n);
    return n;
  }

  /** Forget strategies idle since before `now - IDLE_FORGET_AFTER`. */
  async idle(now: number): Promise<number> {
    const { afterMs, core, log } = this.deps;
    if (afterMs <= 0) return 0;
    const cutoff = now - afterMs;
    const due = core.idleBefore(cutoff);
    for (const [strategy, o] of this.orphans) {
      if (core.has(strategy)) this.orphans.delete(strategy);
      else if (o.receivedAt < cutoff) due.push({ strategy, lastTs: o.ts });
    }
    let forgotten = 0;
    for (let i = 0; i < due.length; i += SLICE) {
      const slice = due.slice(i, i + SLICE);
      const gone = await this.forgetIdle(slice);
      for (const s of gone) {
        core.forget(s);
        this.orphans.delete(s);
      }
      forgotten += gone.length;
    }
    if (forgotten > 0) {
      log.info({ forgotten, cutoff }, 'forgot idle strategies');
      this.deps.onForgotten?.('idle', forgotten);
    }
    return forgotten;
  }

  private async forgetIdle(slice: { strategy: string; lastTs: number }[]): Promise<string[]> {
    const { pk, lease } = this.deps;
    const args: (string | number)[] = [];
    for (const c of slice) args.push(c.strategy, c.lastTs);
    try {
      return await this.redis.quantmonForgetIdle(
        pk.lease('scorer'),
        pk.latestScores,
        pk.ingestLastTs,
        lease.token,
        ...args,
      );
    } catch (err) {
      throw asFenced(err);
    }
  }
}

/** The two fields of a latest ScoreUpdate an orphan needs (a full schema parse of thousands costs more). */
function orphanOf(json: string): Orphan | undefined {
  try {
    const u = JSON.parse(json) as { receivedAt?: unknown; ts?: unknown };
    if (typeof u.receivedAt === 'number' && typeof u.ts === 'number') {
      return { receivedAt: u.receivedAt, ts: u.ts };
    }
  } catch {
    // unreadable: the replay logged it; left for an operator (DELETE /api/strategies)
  }
  return undefined;
}
