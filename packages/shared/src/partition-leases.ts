import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Redis } from 'ioredis';
import type { Keys, PartitionOwner } from './keys.js';
import type { Logger } from './logger.js';
import { abortableSleep } from './sleep.js';

/**
 * Grant: free lease (or one left by an earlier incarnation with the same
 * replica id: static membership) -> INCR the epoch, SET `<id>#<epoch>` with
 * a TTL, answer the epoch. Held by another replica -> 0.
 */
const ACQUIRE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + 1) ~= ARGV[1] .. '#' then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. epoch, 'PX', ARGV[2])
return epoch`;

const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The Lua guard every fenced write starts with: KEYS[1] is the partition's
 * lease, ARGV[1] the writer's token. A writer whose lease expired or moved
 * on (a paused or cut-off replica) is refused in the same atomic step as
 * the write it attempts.
 */
export const FENCE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lease ' .. KEYS[1] .. ' is no longer held by ' .. ARGV[1])
end`;

/** A write refused because this replica no longer holds the partition's lease. */
export class FencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FencedError';
  }
}

/** Turn a FENCED reply into a FencedError; other errors pass through. */
export function asFenced(err: unknown): unknown {
  const message = (err as Error)?.message ?? '';
  return message.includes('FENCED') ? new FencedError(message) : err;
}

/** One held partition, for one term. */
export interface Lease {
  readonly partition: number;
  /** `<replica id>#<epoch>`: fenced writes compare it with the lease key. */
  readonly token: string;
  /** The fencing token: grows at every grant of this partition. */
  readonly epoch: number;
  /** Aborts when the term ends: lost, released in a rebalance, or shutdown. */
  readonly signal: AbortSignal;
  /** End the term now (a write was fenced). */
  lost(reason: string): void;
}

export interface PartitionOwnershipOptions {
  redis: Redis;
  keys: Keys;
  owner: PartitionOwner;
  id: string;
  partitions: number;
  ttlMs: number;
  signal: AbortSignal;
  log: Logger;
  /** Runs while this replica holds `lease.partition`; must return once `lease.signal` aborts. */
  run: (lease: Lease) => Promise<void>;
  onChange?: (owned: readonly number[]) => void;
}

const weight = (member: string, partition: number): number =>
  createHash('sha256').update(`${member}/${partition}`).digest().readUInt32BE(0);

/**
 * Who owns each partition, given the live members: rendezvous (highest
 * random weight) hashing with bounded load. Each partition goes to the
 * member with the highest weight(member, partition); then a member holding
 * more than ceil(P/M) gives its least-attached partitions to the
 * highest-weighted member below that bound. Every member computes the same
 * answer from the same member list, with no coordinator; when a member
 * joins or leaves, mostly only the partitions it gains or held move
 * (Kafka's lesson: move only what must move), and shares stay even (plain
 * rendezvous hashing gave one of two scorers 7 of 8 partitions). The
 * weight needs a hash that mixes well: replica ids differ in a few
 * characters, and FNV's output for such inputs let one member win all.
 */
export function assignPartitions(members: readonly string[], partitions: number): string[] {
  const ms = [...new Set(members)].sort();
  if (ms.length === 0) return [];
  const w = ms.map((m) => Array.from({ length: partitions }, (_, p) => weight(m, p)));
  const owner: number[] = [];
  const load = new Array<number>(ms.length).fill(0);
  for (let p = 0; p < partitions; p++) {
    let best = 0;
    for (let i = 1; i < ms.length; i++) if (w[i]![p]! > w[best]![p]!) best = i;
    owner.push(best);
    load[best]!++;
  }
  const cap = Math.ceil(partitions / ms.length);
  // Least attached first: the partitions their owner wins by the smallest weight.
  const order = owner
    .map((_, p) => p)
    .sort((a, b) => w[owner[a]!]![a]! - w[owner[b]!]![b]! || a - b);
  for (const p of order) {
    const from = owner[p]!;
    if (load[from]! <= cap) continue;
    let to = -1;
    for (let i = 0; i < ms.length; i++) {
      if (i === from || load[i]! >= cap) continue;
      if (to < 0 || w[i]![p]! > w[to]![p]!) to = i;
    }
    if (to < 0) continue;
    owner[p] = to;
    load[from]!--;
    load[to]!++;
  }
  return owner.map((i) => ms[i]!);
}

interface Term {
  lease: Lease;
  controller: AbortController;
  done: Promise<void>;
  renewedAt: number;
}

/**
 * Share P partitions among the live replicas of one service. Every
 * ttl/3: heartbeat in the members set, compute this replica's share by
 * rendezvous hashing, renew what it holds, release what it should no longer
 * hold (after its term has finished its in-flight batch), and acquire what
 * it should hold once the lease is free. A SIGKILLed replica's leases and
 * membership expire after the TTL; its partitions move on the next round.
 */
export async function runPartitionOwnership(opts: PartitionOwnershipOptions): Promise<void> {
  const { redis, keys, owner, id, ttlMs, signal, log } = opts;
  const period = Math.max(100, Math.floor(ttlMs / 3));
  const membersKey = keys.members(owner);
  const terms = new Map<number, Term>();
  let lastOwned = '';

  /** Terms finishing their in-flight batch; their partitions are not taken again until done. */
  const ending = new Map<number, Promise<void>>();
  /**
   * End a term without waiting for it: the loop keeps heartbeating and
   * renewing the other leases while the term finishes its batch (a term
   * blocked in a read takes up to a second, and several ending at once
   * must not let this replica's membership expire). The lease is released
   * once the term is done, so the next owner never overlaps its last write.
   */
  const endTerm = (p: number, release: boolean): void => {
    const t = terms.get(p);
    if (!t) return;
    terms.delete(p);
    t.controller.abort();
    const done = t.done
      .then(async () => {
        if (!release) return;
        try {
          await redis.eval(RELEASE_LUA, 1, keys.partition(p).lease(owner), t.lease.token);
        } catch {
          // it expires on its own
        }
      })
      .finally(() => ending.delete(p));
    ending.set(p, done);
  };

  while (!signal.aborted) {
    const now = Date.now();
    let live: string[] | undefined;
    try {
      await redis.zadd(membersKey, now + ttlMs, id);
      await redis.zremrangebyscore(membersKey, '-inf', now);
      live = await redis.zrangebyscore(membersKey, now, '+inf');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'membership heartbeat failed');
    }
    // Renew: a lease not renewed within its TTL may be someone else's now.
    for (const [p, t] of terms) {
      if (t.controller.signal.aborted) {
        endTerm(p, true);
        continue;
      }
      try {
        const ok = Number(
          await redis.eval(RENEW_LUA, 1, keys.partition(p).lease(owner), t.lease.token, ttlMs),
        );
        if (ok === 1) t.renewedAt = Date.now();
        else {
          log.warn({ partition: p }, 'partition lease lost: ending the term');
          endTerm(p, false);
        }
      } catch (err) {
        if (Date.now() - t.renewedAt >= ttlMs) {
          log.warn({ partition: p, err: (err as Error).message }, 'lease not renewed in time');
          endTerm(p, false);
        }
      }
    }
    if (live) {
      if (!live.includes(id)) live.push(id);
      const mine = new Set<number>();
      assignPartitions(live, opts.partitions).forEach((m, p) => {
        if (m === id) mine.add(p);
      });
      // Release first, so the new owner can take over on its next round.
      for (const p of [...terms.keys()]) {
        if (!mine.has(p)) {
          log.debug({ partition: p, members: live.length }, 'rebalance: releasing partition');
          endTerm(p, true);
        }
      }
      for (const p of mine) {
        if (terms.has(p) || ending.has(p) || signal.aborted) continue;
        const pk = keys.partition(p);
        let epoch = 0;
        try {
          epoch = Number(
            await redis.eval(ACQUIRE_LUA, 2, pk.lease(owner), pk.epoch(owner), id, ttlMs),
          );
        } catch (err) {
          log.warn({ partition: p, err: (err as Error).message }, 'lease acquire failed');
        }
        if (epoch > 0) terms.set(p, startTerm(opts, p, `${id}#${epoch}`, epoch));
      }
    }
    const owned = [...terms.keys()].sort((a, b) => a - b);
    if (owned.join(',') !== lastOwned) {
      lastOwned = owned.join(',');
      log.info({ owner, partitions: owned, members: live?.length }, 'partitions owned');
      opts.onChange?.(owned);
    }
    await abortableSleep(period, signal);
  }
  for (const p of [...terms.keys()]) endTerm(p, true);
  await Promise.all(ending.values());
  try {
    await redis.zrem(membersKey, id);
  } catch {
    // it expires on its own
  }
  opts.onChange?.([]);
}

function startTerm(
  opts: PartitionOwnershipOptions,
  partition: number,
  token: string,
  epoch: number,
): Term {
  const controller = new AbortController();
  setMaxListeners(1_000, controller.signal); // the term's loops and sleeps all listen to it
  const stop = (): void => controller.abort();
  opts.signal.addEventListener('abort', stop, { once: true });
  const lease: Lease = {
    partition,
    token,
    epoch,
    signal: controller.signal,
    lost: (reason) => {
      if (controller.signal.aborted) return;
      opts.log.warn({ partition, reason }, 'partition term ended: lease lost');
      controller.abort();
    },
  };
  opts.log.debug({ partition, epoch }, 'partition acquired');
  const done = opts
    .run(lease)
    .catch((err: unknown) => {
      opts.log.error({ err, partition }, 'partition term failed');
    })
    .finally(() => {
      opts.signal.removeEventListener('abort', stop);
      controller.abort(); // a term that returned on its own is over: release it next round
    });
  return { lease, controller, done, renewedAt: Date.now() };
}
