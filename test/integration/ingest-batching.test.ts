import {
  corkedWrites,
  holdWritesForTurn,
  keysFor,
  LAST_TS_LAYOUT_FIELD,
  partitionOf,
  publishSampleBatch,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually } from '../helpers/services.js';

/**
 * How the ingest write batches its round trips on a real Redis: on one
 * Redis a batch over many partitions is one script run (on a Cluster, one
 * per partition, all leaving in one socket write), and the
 * script reads and writes the strategies' latest timestamps in chunked
 * HMGET / HSET (Lua's unpack() has a bound), whatever the number of
 * strategies in one call.
 */
describe('ingest write batching', () => {
  let redisServer: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    await redis.ping();
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.dispose();
  });

  /** Counts the socket-level writes (one per _write or _writev) while `run` runs. */
  async function socketWrites(
    run: () => Promise<unknown>,
  ): Promise<{ write: number; writev: number }> {
    const socket = redis.stream as unknown as {
      _write: (...a: unknown[]) => unknown;
      _writev?: (...a: unknown[]) => unknown;
    };
    const counts = { write: 0, writev: 0 };
    const write = socket._write;
    const writev = socket._writev;
    socket._write = function (this: unknown, ...a: unknown[]) {
      counts.write++;
      return write.apply(this, a);
    };
    if (writev) {
      socket._writev = function (this: unknown, ...a: unknown[]) {
        counts.writev++;
        return writev.apply(this, a);
      };
    }
    try {
      await run();
    } finally {
      socket._write = write;
      if (writev) socket._writev = writev;
    }
    return counts;
  }

  it('sends the commands of corkedWrites in one socket write, and each in its own without it', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `${uniquePrefix('cork')}:${i}`);
    const corked = await socketWrites(() =>
      Promise.all(corkedWrites(redis, keys, (k) => redis.set(k, 'v'))),
    );
    expect(corked).toEqual({ write: 0, writev: 1 });
    const plain = await socketWrites(() => Promise.all(keys.map((k) => redis.get(k))));
    expect(plain.write + plain.writev).toBe(8);
    expect(await redis.mget(...keys)).toEqual(keys.map(() => 'v'));
  });

  it("holds a connection's writes of one loop turn for one socket write, and no longer", async () => {
    const key = uniquePrefix('turn');
    const counts = await socketWrites(async () => {
      holdWritesForTurn(redis);
      const first = redis.set(`${key}:1`, 'a');
      // Another callback of the same turn (as another partition's read reply would be).
      const second = new Promise((r) => process.nextTick(() => r(redis.set(`${key}:2`, 'b'))));
      await Promise.all([first, second]);
    });
    expect(counts).toEqual({ write: 0, writev: 1 });
    // The hold ended with the turn: a later command is not held.
    const later = await socketWrites(() => redis.get(`${key}:1`));
    expect(later.write + later.writev).toBe(1);
    expect(await redis.mget(`${key}:1`, `${key}:2`)).toEqual(['a', 'b']);
  });

  /** Script runs (EVAL and EVALSHA) Redis has counted. */
  async function scriptRuns(): Promise<number> {
    const info = await redis.info('commandstats');
    let n = 0;
    for (const m of info.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) n += Number(m[1]);
    return n;
  }

  it('writes a batch spanning 8 partitions in one script run, each share in its partition', async () => {
    const prefix = uniquePrefix('span');
    const P = 8;
    const batch = Array.from({ length: 64 }, (_, i) => ({
      strategy: `s${i}`,
      ts: 1_000 + i,
      return: 0.001,
      id: `x-${i}`,
    }));
    const before = await scriptRuns();
    const first = await publishSampleBatch(redis, batch, { prefix, partitions: P });
    expect(await scriptRuns()).toBe(before + 1);
    expect(first).toMatchObject({ accepted: 64, duplicates: 0, outOfOrder: 0 });
    let total = 0;
    for (let p = 0; p < P; p++) {
      const entries = await redis.xrange(keysFor(prefix).partition(p).strategySamples, '-', '+');
      for (const [, fields] of entries) {
        const s = JSON.parse(fields[1]!) as { strategy: string };
        expect(partitionOf(s.strategy, P)).toBe(p);
      }
      total += entries.length;
    }
    expect(total).toBe(64);
    // The retry: one run again, every sample a duplicate, outcomes in the caller's order.
    const retry = await publishSampleBatch(redis, batch, { prefix, partitions: P });
    expect(await scriptRuns()).toBe(before + 2);
    expect(retry.outcomes).toEqual(batch.map(() => 'duplicate'));
  });

  it('writes a batch over thousands of strategies in one partition, and orders them all on the next', async () => {
    const prefix = uniquePrefix('wide');
    const n = 2_500; // more than two HMGET / HSET chunks of 1,000
    const batch = (ts: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({
        strategy: `s${i}`,
        ts,
        return: 0.001,
        id: `${tag}-${i}`,
      }));
    const first = await publishSampleBatch(redis, batch(2_000, 'a'), { prefix, partitions: 1 });
    expect(first).toMatchObject({ accepted: n, duplicates: 0, outOfOrder: 0 });
    const { [LAST_TS_LAYOUT_FIELD]: layout, ...lastTs } = await redis.hgetall(
      keysFor(prefix).partition(0).ingestLastTs,
    );
    expect(layout).toBeDefined();
    expect(Object.keys(lastTs)).toHaveLength(n);
    expect(new Set(Object.values(lastTs))).toEqual(new Set(['2000']));

    // Older than every strategy's latest: all out of order, none written, none marked.
    const older = await publishSampleBatch(redis, batch(1_000, 'b'), { prefix, partitions: 1 });
    expect(older).toMatchObject({ accepted: 0, outOfOrder: n });
    // Newer: all written; the older batch's ids were left free.
    const newer = await publishSampleBatch(redis, batch(3_000, 'b'), { prefix, partitions: 1 });
    expect(newer).toMatchObject({ accepted: n, duplicates: 0, outOfOrder: 0 });
    expect(await redis.xlen(keysFor(prefix).partition(0).strategySamples)).toBe(2 * n);
  });

  it("keeps each partition's last-ts hash a hash table, from its first write and after an upgrade", async () => {
    const prefix = uniquePrefix('table');
    const pk = keysFor(prefix).partition(0);
    // As the layout before left it: a few short fields, which Redis keeps as a list it scans.
    await redis.hset(pk.ingestLastTs, 'old-a', '5000', 'old-b', '5000');
    expect(await redis.object('ENCODING', pk.ingestLastTs)).toBe('listpack');

    const sample = (strategy: string, ts: number, id: string) => ({
      strategy,
      ts,
      return: 0.001,
      id,
    });
    const r = await publishSampleBatch(
      redis,
      [sample('old-a', 4_000, 'x1'), sample('old-b', 6_000, 'x2'), sample('new-c', 1_000, 'x3')],
      { prefix, partitions: 1 },
    );
    // The ordering still reads the fields the layout before wrote.
    expect(r).toMatchObject({ accepted: 2, outOfOrder: 1 });
    expect(await redis.object('ENCODING', pk.ingestLastTs)).toBe('hashtable');
    const { [LAST_TS_LAYOUT_FIELD]: layout, ...lastTs } = await redis.hgetall(pk.ingestLastTs);
    expect(layout!.length).toBeGreaterThan(64);
    expect(lastTs).toEqual({ 'old-a': '5000', 'old-b': '6000', 'new-c': '1000' });

    // A new pipeline's hash is a table from its first write, over every partition it writes.
    const fresh = uniquePrefix('table-new');
    const many = Array.from({ length: 40 }, (_, i) => sample(`s${i}`, 1_000, `f${i}`));
    await publishSampleBatch(redis, many, { prefix: fresh, partitions: 4 });
    for (let p = 0; p < 4; p++) {
      const key = keysFor(fresh).partition(p).ingestLastTs;
      expect(await redis.object('ENCODING', key)).toBe('hashtable');
      // Written once: a later call finds it and adds only strategies.
      expect(await redis.hget(key, LAST_TS_LAYOUT_FIELD)).toBeTruthy();
    }
    // A restart reloads it as a table too, from the AOF's snapshot preamble
    // (rewritten first): the long value converts it again.
    if (redisServer.kind === 'external') return;
    await redis.bgrewriteaof();
    const rewritten = async () =>
      /aof_rewrite_in_progress:0[\s\S]*aof_rewrite_scheduled:0/.test(
        await redis.info('persistence'),
      )
        ? true
        : undefined;
    await eventually(rewritten, 10_000, 'the AOF rewrite');
    await redisServer.stop();
    await redisServer.start();
    await eventually(async () =>
      (await redis.ping().catch(() => '')) === 'PONG' ? true : undefined,
    );
    expect(await redis.object('ENCODING', keysFor(fresh).partition(0).ingestLastTs)).toBe(
      'hashtable',
    );
    expect(await redis.hget(keysFor(prefix).partition(0).ingestLastTs, 'old-b')).toBe('6000');
  });
});
