import { FencedError, keysFor, RetireRequest, type Lease } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestRedis,
  uniquePrefix,
  type TestRedis,
} from '../../../test/helpers/redis-server.js';
import { ForgetSweep } from './forget-sweep.js';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const T0 = 1_700_000_000_000;
const log = pino({ level: 'silent' });

describe('ForgetSweep (scorer, real Redis)', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  async function setup(token = 'me#1') {
    const pk = keysFor(uniquePrefix('sweep')).partition(0);
    await redis.set(pk.lease('scorer'), 'me#1');
    const lease: Lease = {
      partition: 0,
      token,
      epoch: 1,
      signal: new AbortController().signal,
      lost: () => undefined,
    };
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
    const sweep = new ForgetSweep({ redis, pk, lease, core, afterMs: 60_000, log });
    const feed = async (strategy: string, i: number, at: number) => {
      core.apply(`${i}-0`, { strategy, ts: at, return: 0.01, receivedAt: at }, at);
      await redis.hset(pk.latestScores, strategy, JSON.stringify({ receivedAt: at, ts: at }));
      await redis.hset(pk.ingestLastTs, strategy, String(at));
    };
    return { pk, core, sweep, feed };
  }

  it('forgets idle strategies in memory and Redis, keeps busy ones and one ingest has a newer sample for', async () => {
    const { pk, core, sweep, feed } = await setup();
    await feed('idle', 1, T0);
    await feed('inflight', 2, T0);
    await feed('busy', 3, T0 + 100_000);
    // A newer sample of "inflight" was written by ingest, not yet scored.
    await redis.hset(pk.ingestLastTs, 'inflight', String(T0 + 90_000));
    expect(await sweep.idle(T0 + 120_000)).toBe(1);
    expect(core.has('idle')).toBe(false);
    expect(core.has('inflight')).toBe(true);
    expect(core.has('busy')).toBe(true);
    expect(await redis.hkeys(pk.latestScores)).toEqual(['inflight', 'busy']);
    expect(await redis.hkeys(pk.ingestLastTs)).toEqual(['inflight', 'busy']);
  });

  it('forgets latest scores the windows lack (samples trimmed) on the same clock', async () => {
    const { pk, sweep } = await setup();
    await redis.hset(pk.latestScores, 'orphan-old', JSON.stringify({ receivedAt: T0, ts: T0 }));
    await redis.hset(
      pk.latestScores,
      'orphan-new',
      JSON.stringify({ receivedAt: T0 + 100_000, ts: 1 }),
    );
    await sweep.scanOrphans();
    expect(sweep.orphanCount).toBe(2);
    expect(await sweep.idle(T0 + 120_000)).toBe(1);
    expect(await redis.hkeys(pk.latestScores)).toEqual(['orphan-new']);
  });

  it('applies a retirement and hands it to the alerter with the scores stream position', async () => {
    const { pk, core, sweep, feed } = await setup();
    await feed('old', 1, T0);
    const scoresId = await redis.xadd(pk.scores, '*', 'd', '{}');
    await redis.hset(pk.retire('scorer'), 'old', JSON.stringify({ by: 'adam', at: T0 + 5 }));
    expect(await sweep.retire()).toBe(1);
    expect(core.has('old')).toBe(false);
    expect(await redis.hlen(pk.retire('scorer'))).toBe(0);
    expect(await redis.hexists(pk.latestScores, 'old')).toBe(0);
    const handed = RetireRequest.parse(
      JSON.parse((await redis.hget(pk.retire('alerter'), 'old'))!),
    );
    expect(handed).toEqual({ by: 'adam', at: T0 + 5, scoresId });
    expect(await sweep.retire()).toBe(0); // nothing left: idempotent
  });

  it('is fenced: a replica that lost the lease forgets nothing', async () => {
    const { pk, core, sweep, feed } = await setup('other#0');
    await feed('idle', 1, T0);
    await expect(sweep.idle(T0 + 120_000)).rejects.toBeInstanceOf(FencedError);
    expect(core.has('idle')).toBe(true);
    expect(await redis.hexists(pk.latestScores, 'idle')).toBe(1);
  });
});
