import { createLogger, createRedis, createRegistry, keysFor, waitReady } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  redisNowMs,
  retainedStreams,
  runStreamTrimmer,
  trimStream,
} from '../../services/scorer/src/stream-trimmer.js';
import { heldBackMs } from '../../services/scorer/src/stream-retention.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/streams.js';

/**
 * Time retention on a real Redis (STREAM_RETENTION, the scorer's
 * stream-trimmer.ts): entries older than the retention go, entries a
 * consumer group has not yet processed stay whatever their age, and the
 * trimmer run by a partition's owner trims only what it owns.
 */
const HOUR = 3_600_000;
const OLD = 600;
const log = createLogger('stream-retention-test', 'silent');

/** OLD entries one ms apart from `fromMs` (explicit ids), then `fresh` with Redis's own ids. */
async function fill(redis: Redis, key: string, fromMs: number, fresh = 20): Promise<string[]> {
  const p = redis.pipeline();
  for (let i = 0; i < OLD; i++) p.xadd(key, `${fromMs + i}-0`, 'd', `old-${i}`);
  for (let i = 0; i < fresh; i++) p.xadd(key, '*', 'd', `new-${i}`);
  const replies = (await p.exec()) ?? [];
  return replies.map(([err, id]) => {
    if (err) throw err;
    return String(id);
  });
}

const count = async (redis: Redis, key: string, from: string): Promise<number> =>
  ((await redis.xrange(key, from, '+')) as unknown[]).length;

describe('stream retention on a single Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'fail-fast', 'retention-test', log);
    await waitReady(redis);
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  it('trims entries older than the retention once every group has processed them', async () => {
    const key = `${uniquePrefix('ret')}:stream`;
    const now = await redisNowMs(redis);
    const ids = await fill(redis, key, now - 2 * HOUR);
    await redis.xgroup('CREATE', key, 'scorer', '$');

    const r = await trimStream(redis, key, await redisNowMs(redis), HOUR);
    expect(r?.point.heldBy).toBeUndefined();
    // XTRIM ~ removes whole nodes (100 entries): at most one node of old entries may stay.
    expect(r!.trimmed).toBeGreaterThanOrEqual(OLD - 100);
    expect(await redis.xlen(key)).toBe(OLD + 20 - r!.trimmed);
    expect(await count(redis, key, ids[OLD]!)).toBe(20);
    // Nothing is left to trim: a second pass removes nothing.
    expect((await trimStream(redis, key, await redisNowMs(redis), HOUR))!.trimmed).toBe(0);
  });

  it('keeps old entries a group has pending or not yet been delivered', async () => {
    const key = `${uniquePrefix('ret')}:stream`;
    const now = await redisNowMs(redis);
    const ids = await fill(redis, key, now - 2 * HOUR);
    // The alerter read every old entry and acked all but one (a dead consumer's, say).
    await redis.xgroup('CREATE', key, 'alerter', '0');
    await redis.xreadgroup('GROUP', 'alerter', 'c1', 'COUNT', OLD, 'STREAMS', key, '>');
    await redis.xack(key, 'alerter', ...ids.slice(0, OLD).filter((_, i) => i !== 250));
    // The historian was delivered up to old entry 400 and acked it all.
    await redis.xgroup('CREATE', key, 'historian', ids[400]!);

    const held = await trimStream(redis, key, await redisNowMs(redis), HOUR);
    expect(held!.point).toEqual({ minId: ids[250], heldBy: 'alerter' });
    expect(held!.trimmed).toBeGreaterThanOrEqual(200);
    expect(held!.trimmed).toBeLessThanOrEqual(250);
    expect(await count(redis, key, ids[250]!)).toBe(OLD - 250 + 20);
    expect(await count(redis, key, '-')).toBe(OLD + 20 - held!.trimmed);

    // Acked at last: now the historian, which has yet to read entry 401 on, holds it.
    await redis.xack(key, 'alerter', ids[250]!);
    const next = await trimStream(redis, key, await redisNowMs(redis), HOUR);
    expect(next!.point).toEqual({ minId: `${ids[400]!.split('-')[0]}-1`, heldBy: 'historian' });
    expect(await count(redis, key, ids[401]!)).toBe(OLD - 401 + 20);
    expect(await count(redis, key, '-')).toBeLessThanOrEqual(OLD - 401 + 20 + 100);
  });

  it("keeps what the scorer's windows hold (a restart replays it), and trims nothing while a partition replays", async () => {
    const key = `${uniquePrefix('ret')}:stream`;
    const now = await redisNowMs(redis);
    const ids = await fill(redis, key, now - 2 * HOUR);
    await redis.xgroup('CREATE', key, 'scorer', '$');
    // A daily strategy's window still holds old entry 300 on (its last samples of the 2-hour-old run).
    const heldMs = Number(ids[300]!.split('-')[0]);
    const r = await trimStream(redis, key, now, HOUR, () => heldMs);
    expect(r!.point).toEqual({ minId: `${heldMs}-0`, heldBy: 'scorer windows' });
    expect(await count(redis, key, ids[300]!)).toBe(OLD - 300 + 20);
    expect(await count(redis, key, '-')).toBeLessThanOrEqual(OLD - 300 + 20 + 100);
    // While the partition replays, the stream is left alone.
    const before = await redis.xlen(key);
    expect(await trimStream(redis, key, now, HOUR, () => 'restoring')).toBeUndefined();
    expect(await redis.xlen(key)).toBe(before);
    // Windows holding nothing (every strategy forgotten): age decides.
    expect((await trimStream(redis, key, now, HOUR, () => null))!.point.heldBy).toBeUndefined();
    expect(await count(redis, key, '-')).toBeLessThanOrEqual(20 + 100);
  });

  it('trims nothing while a group created at 0 has read nothing, and skips a missing stream', async () => {
    const key = `${uniquePrefix('ret')}:stream`;
    await fill(redis, key, (await redisNowMs(redis)) - 2 * HOUR);
    await redis.xgroup('CREATE', key, 'historian', '0');
    const now = await redisNowMs(redis);
    const r = await trimStream(redis, key, now, HOUR);
    expect(r).toMatchObject({ trimmed: 0, point: { minId: '0-1', heldBy: 'historian' } });
    expect(await redis.xlen(key)).toBe(OLD + 20);
    // Held back from the stream's first entry (two hours old), not from 0-0.
    const behind = heldBackMs(now, HOUR, r!.point, r!.oldestEntryMs);
    expect(Math.abs(behind - HOUR)).toBeLessThan(60_000);
    expect(await trimStream(redis, `${key}:none`, Date.now(), HOUR)).toBeUndefined();
  });

  it("runs as a partition owner: trims its partitions' streams by age, counts it on /metrics, leaves others' alone", async () => {
    const keys = keysFor(uniquePrefix('ret'));
    const [p0, p1, p2] = [0, 1, 2].map((p) => keys.partition(p));
    const now = await redisNowMs(redis);
    for (const key of [p0!.strategySamples, p1!.scores, p2!.strategySamples, keys.alertCommands])
      await fill(redis, key, now - 2 * HOUR, 0);
    await redis.xgroup('CREATE', p0!.strategySamples, 'scorer', '$');
    // An alerter partition read the commands and has one pending (not yet applied).
    await redis.xgroup('CREATE', keys.alertCommands, 'alerter-p0', '0');
    const cmdIds = (await redis.xrange(keys.alertCommands, '-', '+')).map(([id]) => id);
    await redis.xreadgroup(
      'GROUP',
      'alerter-p0',
      'c',
      'COUNT',
      OLD,
      'STREAMS',
      keys.alertCommands,
      '>',
    );
    await redis.xack(
      keys.alertCommands,
      'alerter-p0',
      ...cmdIds.slice(0, 150),
      ...cmdIds.slice(151),
    );

    const registry = createRegistry('scorer');
    const stop = new AbortController();
    const trimming = runStreamTrimmer({
      ...{ redis, retentionMs: HOUR, registry, intervalMs: 200, signal: stop.signal, log },
      streams: () => retainedStreams(keys, [0, 1], () => () => null),
    });
    try {
      await until(
        async () => (await redis.xlen(p1!.scores)) <= 100,
        'the owned scores stream trimmed',
      );
      await until(
        async () => (await redis.xlen(p0!.strategySamples)) <= 100,
        'the owned samples trimmed',
      );
      await until(async () => (await redis.xlen(keys.alertCommands)) < OLD, 'the commands trimmed');
    } finally {
      stop.abort();
      await trimming;
    }
    expect(await redis.xlen(p2!.strategySamples)).toBe(OLD);
    expect(await count(redis, keys.alertCommands, cmdIds[150]!)).toBe(OLD - 150);
    const text = await registry.metrics();
    const trimmed = (stream: string): number =>
      Number(
        new RegExp(
          `^quantmon_stream_trimmed_entries_total\\{[^}]*stream="${stream}"[^}]*\\} (\\d+)`,
          'm',
        ).exec(text)?.[1] ?? NaN,
      );
    expect(trimmed('scores')).toBe(OLD - (await redis.xlen(p1!.scores)));
    expect(trimmed('strategy-samples')).toBe(OLD - (await redis.xlen(p0!.strategySamples)));
    expect(trimmed('alert-commands')).toBe(OLD - (await redis.xlen(keys.alertCommands)));
    // The pending command holds its stream back by about 2 h less the retention.
    expect(text).toMatch(
      /quantmon_stream_retention_held_back_seconds\{[^}]*stream="alert-commands"[^}]*\} 3[56]\d\d/,
    );
  });
});

describe('stream retention on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    redis = cluster.client() as unknown as Redis;
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('trims every partition over the masters and keeps what a group still needs (no CROSSSLOT)', async () => {
    const keys = keysFor(uniquePrefix('rcl'));
    const owned = [0, 1, 2, 3, 4, 5];
    const streams = retainedStreams(keys, owned, () => () => null);
    const now = await redisNowMs(redis);
    const firstNew = new Map<string, string>();
    for (const s of streams) {
      const ids = await fill(redis, s.key, now - 2 * HOUR);
      firstNew.set(s.key, ids[OLD]!);
      // Every stream's group has read and acked everything but entry 450.
      await redis.xgroup('CREATE', s.key, 'g', '0');
      await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', OLD + 20, 'STREAMS', s.key, '>');
      await redis.xack(s.key, 'g', ...ids.filter((_, i) => i !== 450));
    }
    for (const s of streams) {
      const r = await trimStream(redis, s.key, await redisNowMs(redis), HOUR);
      expect(r!.point.heldBy).toBe('g');
      expect(r!.trimmed).toBeGreaterThanOrEqual(400);
      expect(await count(redis, s.key, `${now - 2 * HOUR + 450}-0`)).toBe(OLD - 450 + 20);
      expect(await count(redis, s.key, firstNew.get(s.key)!)).toBe(20);
    }
  }, 120_000);
});
