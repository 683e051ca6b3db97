import {
  assignPartitions,
  createLogger,
  createRedis,
  FencedError,
  GROUPS,
  groupPosition,
  keysFor,
  ReplicaWaitError,
  runPartitionOwnership,
  type Lease,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeScores } from '../../services/scorer/src/score-writer.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually } from '../helpers/services.js';
import { sleep } from '../helpers/streams.js';

const log = createLogger('test', 'silent');

/** A lease as a replica would hold it, for driving fenced writes by hand. */
function leaseOf(partition: number, token: string): Lease {
  const c = new AbortController();
  return {
    partition,
    token,
    epoch: Number(token.split('#')[1]),
    signal: c.signal,
    lost: () => c.abort(),
  };
}

describe('partition leases and fencing', () => {
  let server: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'blocking', 'leases-test');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  it('shares partitions evenly and moves little when a member joins or leaves (bounded-load rendezvous hashing)', () => {
    const P = 64;
    const three = assignPartitions(['a', 'b', 'c'], P);
    const four = assignPartitions(['a', 'b', 'c', 'd'], P);
    const count = (owners: string[], m: string) => owners.filter((o) => o === m).length;
    // Even shares: nobody above ceil(P/M).
    for (const m of ['a', 'b', 'c']) expect(count(three, m)).toBeLessThanOrEqual(22);
    for (const m of ['a', 'b', 'c', 'd']) expect(count(four, m)).toBeLessThanOrEqual(16);
    // A join moves about the newcomer's share, little more: not a reshuffle.
    const moved = three.filter((o, p) => o !== four[p]).length;
    expect(moved).toBeGreaterThanOrEqual(count(four, 'd'));
    expect(moved).toBeLessThanOrEqual(count(four, 'd') + P / 8);
    // A leave moves the leaver's partitions, little more.
    const two = assignPartitions(['a', 'c'], P);
    const movedOnLeave = three.filter((o, p) => o !== two[p]).length;
    expect(movedOnLeave).toBeLessThanOrEqual(count(three, 'b') + P / 8);
    // Everyone computes the same answer whatever order they list the members in.
    expect(assignPartitions(['c', 'a', 'b'], P)).toEqual(three);
    // Small P, two members: an even split (plain rendezvous gave 7 of 8 to one).
    for (const ids of [
      ['scorer-x-1-aa', 'scorer-x-2-bb'],
      ['s1', 's2'],
    ]) {
      const eight = assignPartitions(ids, 8);
      expect(count(eight, ids[0]!)).toBe(4);
    }
  });

  it('refuses the write of a replica whose lease expired and was granted to another, in the same atomic step', async () => {
    const prefix = uniquePrefix('fence');
    const keys = keysFor(prefix);
    const pk = keys.partition(0);
    await groupPosition(redis, pk.strategySamples, GROUPS.scorer, '0');
    const sample = await redis.xadd(pk.strategySamples, '*', 'd', '{}');

    // Replica A holds epoch 1, then pauses past its TTL; B is granted epoch 2.
    await redis.set(pk.epoch('scorer'), '1');
    await redis.set(pk.lease('scorer'), 'a#1', 'PX', 200);
    await sleep(300);
    await redis.set(pk.epoch('scorer'), '2');
    await redis.set(pk.lease('scorer'), 'b#2', 'PX', 10_000);

    const position = [{ key: pk.strategySamples, from: '0-0', id: sample!, read: 1 }];
    const update = [{ strategy: 's', json: '{"late":true}' }];
    // A wakes up and writes what it computed before the pause: refused, nothing written.
    await expect(
      writeScores(redis, pk, leaseOf(0, 'a#1'), GROUPS.scorer, position, update),
    ).rejects.toBeInstanceOf(FencedError);
    expect(await redis.xlen(pk.scores)).toBe(0);
    expect(await redis.hlen(pk.latestScores)).toBe(0);
    expect((await groupPosition(redis, pk.strategySamples, GROUPS.scorer, '0')).id).toBe('0-0');

    // B's write goes through, once: the same write re-sent (a lost reply) is recognised.
    await writeScores(redis, pk, leaseOf(0, 'b#2'), GROUPS.scorer, position, update);
    await writeScores(redis, pk, leaseOf(0, 'b#2'), GROUPS.scorer, position, update);
    expect(await redis.xlen(pk.scores)).toBe(1);
    expect((await groupPosition(redis, pk.strategySamples, GROUPS.scorer, '0')).id).toBe(sample);

    // REDIS_WAIT_REPLICAS on a Redis without replicas: the write is not confirmed, so it fails.
    const next = await redis.xadd(pk.strategySamples, '*', 'd', '{}');
    const position2 = [{ key: pk.strategySamples, from: sample!, id: next!, read: 2 }];
    await expect(
      writeScores(redis, pk, leaseOf(0, 'b#2'), GROUPS.scorer, position2, update, {
        replicas: 1,
        timeoutMs: 50,
      }),
    ).rejects.toBeInstanceOf(ReplicaWaitError);
  });

  it('shares partitions between replicas, takes over a dead one within its TTL, and hands back on rejoin', async () => {
    const prefix = uniquePrefix('own');
    const keys = keysFor(prefix);
    const P = 6;
    const held = new Map<string, Set<number>>();
    const start = (id: string) => {
      const stop = new AbortController();
      const mine = new Set<number>();
      held.set(id, mine);
      const done = runPartitionOwnership({
        redis,
        keys,
        owner: 'scorer',
        id,
        partitions: P,
        ttlMs: 600,
        signal: stop.signal,
        log,
        run: async (lease) => {
          mine.add(lease.partition);
          await new Promise((r) => lease.signal.addEventListener('abort', r, { once: true }));
          mine.delete(lease.partition);
        },
      });
      return { stop: () => stop.abort(), done };
    };
    const exclusive = () => {
      const all = [...held.values()].flatMap((s) => [...s]);
      return new Set(all).size === all.length;
    };

    const a = start('a');
    const b = start('b');
    await eventually(
      () =>
        held.get('a')!.size > 0 &&
        held.get('b')!.size > 0 &&
        held.get('a')!.size + held.get('b')!.size === P &&
        exclusive()
          ? true
          : undefined,
      5000,
      'all partitions held by the two, each once',
    );

    // b stops heartbeating without releasing (as a SIGKILL leaves it): a takes all within TTL + TTL/3 + margin.
    const bHeld = [...held.get('b')!];
    const killedAt = Date.now();
    b.stop();
    await b.done;
    // Put b's leases back as a dead process would have left them.
    for (const p of bHeld) await redis.set(keys.partition(p).lease('scorer'), 'b#999', 'PX', 600);
    await eventually(() => (held.get('a')!.size === P ? true : undefined), 5000, 'a holds all');
    expect(Date.now() - killedAt).toBeLessThan(600 + 200 + 1000);

    // A new member gets its share back; no partition is ever held twice.
    const c = start('c');
    await eventually(
      () =>
        held.get('c')!.size > 0 && held.get('a')!.size + held.get('c')!.size === P && exclusive()
          ? true
          : undefined,
      5000,
      'c took its share',
    );
    a.stop();
    c.stop();
    await Promise.all([a.done, c.done]);
    // Released on shutdown: no lease left behind.
    for (let p = 0; p < P; p++)
      expect(await redis.get(keys.partition(p).lease('scorer'))).toBeNull();
  });
});
