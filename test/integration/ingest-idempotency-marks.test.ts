import { createHash } from 'node:crypto';
import { encodeEntry, keysFor, publishSampleBatch } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';

/**
 * The ingest idempotency marks on a real Redis: one set per strategy and
 * generation (TTL seconds of Redis's clock), an id remembered between one
 * and two TTLs, and the first layout's marks (a string key per id) still
 * honoured for one TTL after an upgrade.
 */
describe('ingest idempotency marks', () => {
  let redisServer: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.dispose();
  });

  const sample = (strategy: string, ts: number, id: string) => ({
    strategy,
    ts,
    return: 0.001,
    id,
  });
  const redisSeconds = async () => Number((await redis.time())[0]);

  /** Where the script expires a mark set of generation `gen`: the end of gen + 1, plus sha1(key) mod a tenth of the TTL. */
  const expiryOf = (key: string, gen: number, ttl: number): number => {
    const spread = Math.floor(ttl / 10);
    const h = parseInt(createHash('sha1').update(key).digest('hex').slice(0, 7), 16);
    return (gen + 2) * ttl + (spread < 1 ? 0 : h % spread);
  };

  it('keeps one set per strategy and generation, expiring at the end of the next generation', async () => {
    const prefix = uniquePrefix('marks');
    const pk = keysFor(prefix).partition(0);
    const ttl = 3_600;
    // The scorer's group creation makes an empty stream before any sample: still a new pipeline.
    await redis.xgroup('CREATE', pk.strategySamples, 'scorer', '$', 'MKSTREAM');
    const before = await redisSeconds();
    const r = await publishSampleBatch(
      redis,
      [sample('a', 1, 'a-1'), sample('a', 2, 'a-2'), sample('b', 1, 'b-1')],
      { prefix, partitions: 1, idempotencyTtlSeconds: ttl },
    );
    const after = await redisSeconds();
    expect(r.accepted).toBe(3);
    const sets = (await redis.keys(`${pk.ingestIdsPrefix}*`)).sort();
    // A generation boundary between the two readings would be a one-in-an-hour flake: allow either.
    const gen = [Math.floor(before / ttl), Math.floor(after / ttl)].find((g) =>
      sets.includes(`${pk.ingestIdsPrefix}${g}:a`),
    );
    expect(gen).toBeDefined();
    expect(sets).toEqual([`${pk.ingestIdsPrefix}${gen}:a`, `${pk.ingestIdsPrefix}${gen}:b`]);
    expect((await redis.smembers(`${pk.ingestIdsPrefix}${gen}:a`)).sort()).toEqual(['a-1', 'a-2']);
    expect(await redis.smembers(`${pk.ingestIdsPrefix}${gen}:b`)).toEqual(['b-1']);
    // The end of the next generation, plus a second of the set's own within a tenth of one.
    expect(await redis.call('EXPIRETIME', `${pk.ingestIdsPrefix}${gen}:a`)).toBe(
      expiryOf(`${pk.ingestIdsPrefix}${gen}:a`, gen!, ttl),
    );
    expect(await redis.call('EXPIRETIME', `${pk.ingestIdsPrefix}${gen}:b`)).toBe(
      expiryOf(`${pk.ingestIdsPrefix}${gen}:b`, gen!, ttl),
    );
    // So the sets of one generation do not all expire (and get freed) in the same second.
    expect(expiryOf(`${pk.ingestIdsPrefix}${gen}:a`, gen!, ttl)).not.toBe(
      expiryOf(`${pk.ingestIdsPrefix}${gen}:b`, gen!, ttl),
    );
    // No key per id any more.
    expect(await redis.keys(`${pk.ingestSeenPrefix}*`)).toEqual([]);
    // A new pipeline has no marks of the first layout to honour.
    expect(await redis.get(pk.ingestLegacyMarksUntil)).toBe('0');
  });

  it('remembers an id at least one TTL and forgets it after two', async () => {
    const prefix = uniquePrefix('marks-ttl');
    const opts = { prefix, partitions: 1, idempotencyTtlSeconds: 1 };
    expect((await publishSampleBatch(redis, [sample('t', 1, 'x')], opts)).accepted).toBe(1);
    // Within the TTL, wherever the generation boundary falls: a duplicate.
    await new Promise((r) => setTimeout(r, 900));
    expect((await publishSampleBatch(redis, [sample('t', 2, 'x')], opts)).outcomes).toEqual([
      'duplicate',
    ]);
    // Two TTLs after the mark's generation began, neither set looked up holds it.
    await new Promise((r) => setTimeout(r, 1_300));
    expect((await publishSampleBatch(redis, [sample('t', 3, 'x')], opts)).outcomes).toEqual([
      'written',
    ]);
  });

  it('leaves no mark for a sample it did not write (out of order)', async () => {
    const prefix = uniquePrefix('marks-order');
    const pk = keysFor(prefix).partition(0);
    const opts = { prefix, partitions: 1 };
    await publishSampleBatch(redis, [sample('o', 100, 'first')], opts);
    const r = await publishSampleBatch(redis, [sample('o', 50, 'old'), sample('p', 1, 'p')], opts);
    expect(r.outcomes).toEqual(['out-of-order', 'written']);
    const sets = await redis.keys(`${pk.ingestIdsPrefix}*`);
    const fields = (await Promise.all(sets.map((h) => redis.smembers(h)))).flat().sort();
    expect(fields).toEqual(['first', 'p']);
    // Fixed and resent, the id is free.
    expect((await publishSampleBatch(redis, [sample('o', 150, 'old')], opts)).accepted).toBe(1);
  });

  it('judges several ids of one strategy in one call: marked in either generation, repeated, out of order', async () => {
    const prefix = uniquePrefix('marks-several');
    const pk = keysFor(prefix).partition(0);
    const ttl = 3_600;
    const opts = { prefix, partitions: 1, idempotencyTtlSeconds: ttl };
    let now = await redisSeconds();
    // Clear of a generation boundary for the test's few seconds (rarely waits).
    if (now % ttl > ttl - 5) {
      await new Promise((r) => setTimeout(r, 6_000));
      now = await redisSeconds();
    }
    const gen = Math.floor(now / ttl);
    await redis.xgroup('CREATE', pk.strategySamples, 'scorer', '$', 'MKSTREAM');
    // Marked in the previous generation (as a day-old retry finds it), and in this one.
    await redis.sadd(`${pk.ingestIdsPrefix}${gen - 1}:m`, 'm-prev');
    expect(
      (await publishSampleBatch(redis, [sample('m', 100, 'm-cur'), sample('z', 1, 'z-1')], opts))
        .outcomes,
    ).toEqual(['written', 'written']);

    const r = await publishSampleBatch(
      redis,
      [
        sample('m', 101, 'm-prev'),
        sample('m', 102, 'm-cur'),
        sample('m', 50, 'm-late'), // older than m's latest (100): out of order, its id stays free
        sample('m', 103, 'm-new'),
        sample('m', 104, 'm-new'), // the same id again in the same call
        sample('m', 105, 'm-late'), // the id of the out-of-order sample, now in order
        sample('z', 2, 'z-1'), // another strategy's id, marked by the first call
      ],
      { ...opts, entryIds: false },
    );
    expect(r.outcomes).toEqual([
      'duplicate',
      'duplicate',
      'out-of-order',
      'written',
      'duplicate',
      'written',
      'duplicate',
    ]);
    expect((await redis.smembers(`${pk.ingestIdsPrefix}${gen}:m`)).sort()).toEqual([
      'm-cur',
      'm-late',
      'm-new',
    ]);
    const written = await redis.xrange(pk.strategySamples, '-', '+');
    expect(written.map(([, f]) => JSON.parse(f[1]!).id)).toEqual([
      'm-cur',
      'z-1',
      'm-new',
      'm-late',
    ]);

    // A set made by the call gets its expiry; an id repeated in it is a duplicate.
    const fresh = await publishSampleBatch(
      redis,
      [sample('n', 1, 'n-1'), sample('n', 2, 'n-2'), sample('n', 3, 'n-1')],
      opts,
    );
    expect(fresh.outcomes).toEqual(['written', 'written', 'duplicate']);
    expect(await redis.call('EXPIRETIME', `${pk.ingestIdsPrefix}${gen}:n`)).toBe(
      expiryOf(`${pk.ingestIdsPrefix}${gen}:n`, gen, ttl),
    );
    // The retry of the whole call is all duplicates.
    const again = await publishSampleBatch(
      redis,
      [sample('n', 1, 'n-1'), sample('n', 2, 'n-2')],
      opts,
    );
    expect(again.outcomes).toEqual(['duplicate', 'duplicate']);
  });

  it('judges thousands of ids of one strategy in one call, and their partial retry', async () => {
    const prefix = uniquePrefix('marks-chunks');
    const pk = keysFor(prefix).partition(0);
    const opts = { prefix, partitions: 1, entryIds: false };
    // Thousands of ids in one strategy's set, judged in one call.
    const first = Array.from({ length: 2_500 }, (_, i) => sample('c', i + 1, `c-${i}`));
    expect((await publishSampleBatch(redis, first, opts)).accepted).toBe(2_500);
    // Half of them again, beside 2,100 new ones (an out-of-order id among them), in one call.
    const second = [
      ...first.slice(1_250),
      ...Array.from({ length: 2_100 }, (_, i) => sample('c', 3_000 + i, `c-new-${i}`)),
      sample('c', 10, 'c-old'),
    ];
    const r = await publishSampleBatch(redis, second, opts);
    expect([r.accepted, r.duplicates, r.outOfOrder]).toEqual([2_100, 1_250, 1]);
    const [set] = await redis.keys(`${pk.ingestIdsPrefix}*`);
    expect(await redis.scard(set!)).toBe(4_600);
    expect(await redis.sismember(set!, 'c-old')).toBe(0);
    expect(await redis.xlen(pk.strategySamples)).toBe(4_600);
  });

  it('answers the same outcomes without entry ids when the caller needs none (the collector)', async () => {
    const prefix = uniquePrefix('marks-letters');
    const opts = { prefix, partitions: 4, entryIds: false };
    const batch = [sample('x', 10, 'x-1'), sample('y', 5, 'y-1'), sample('x', 20, 'x-2')];
    const first = await publishSampleBatch(redis, batch, opts);
    expect(first.outcomes).toEqual(['written', 'written', 'written']);
    expect(first.entryIds).toEqual([]);
    const again = await publishSampleBatch(
      redis,
      [sample('x', 20, 'x-2'), sample('x', 15, 'x-3'), sample('y', 6, 'y-2')],
      opts,
    );
    expect(again.outcomes).toEqual(['duplicate', 'out-of-order', 'written']);
    expect([again.accepted, again.duplicates, again.outOfOrder]).toEqual([1, 1, 1]);
    // With ids wanted (the default), one per written sample.
    const withIds = await publishSampleBatch(redis, [sample('y', 7, 'y-3')], {
      prefix,
      partitions: 4,
    });
    expect(withIds.entryIds).toHaveLength(1);
    expect(withIds.entryIds[0]).toMatch(/^\d+-\d+$/);
  });

  it('honours the first layout marks for one TTL after an upgrade, then no longer reads them', async () => {
    const prefix = uniquePrefix('marks-upgrade');
    const pk = keysFor(prefix).partition(0);
    const ttl = 600;
    // What the first layout left: its samples stream and a string key per id, with a TTL.
    const [field, json] = encodeEntry({ ...sample('u', 10, 'u-1'), receivedAt: Date.now() });
    await redis.xadd(pk.strategySamples, '*', field, json);
    await redis.set(`${pk.ingestSeenPrefix}u:u-1`, '1', 'EX', ttl);
    await redis.set(`${pk.ingestSeenPrefix}u:u-2`, '1', 'EX', ttl);

    const opts = { prefix, partitions: 1, idempotencyTtlSeconds: ttl };
    const now = await redisSeconds();
    const retry = await publishSampleBatch(
      redis,
      [sample('u', 10, 'u-1'), sample('u', 11, 'u-3')],
      opts,
    );
    expect(retry.outcomes).toEqual(['duplicate', 'written']);
    const until = Number(await redis.get(pk.ingestLegacyMarksUntil));
    expect(until).toBeGreaterThanOrEqual(now + ttl);
    expect(until).toBeLessThanOrEqual(now + ttl + 2);

    // Once the window has passed the string keys are not read (they have expired by then).
    await redis.set(pk.ingestLegacyMarksUntil, String(now - 1));
    const later = await publishSampleBatch(redis, [sample('u', 12, 'u-2')], opts);
    expect(later.outcomes).toEqual(['written']);
    expect(await redis.xlen(pk.strategySamples)).toBe(3);
  });
});
