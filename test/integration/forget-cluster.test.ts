import { keysFor, RetireRequest, type Lease } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlerterCore } from '../../services/alerter/src/alerter-core.js';
import { AlerterForgetPlan } from '../../services/alerter/src/forget-plan.js';
import { sweepLatestSystem } from '../../services/alerter/src/latest-system-sweep.js';
import { compileRules } from '../../services/alerter/src/rules.js';
import { ForgetSweep } from '../../services/scorer/src/forget-sweep.js';
import { DEFAULT_METRICS_OPTIONS } from '../../services/scorer/src/metrics/index.js';
import { ScorerCore } from '../../services/scorer/src/scorer-core.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { uniquePrefix } from '../helpers/redis-server.js';

const T0 = 1_700_000_000_000;
const log = pino({ level: 'silent' });

/**
 * The forgetting scripts on a real Redis Cluster: every key a script
 * touches carries its partition's hash tag (no CROSSSLOT), for partitions
 * spread over the masters, and the global latest-system sweep works on
 * its own slot.
 */
describe('forgetting on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    // The services use the Cluster client where they take a Redis (createRedis).
    redis = cluster.client() as unknown as Redis;
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('forgets idle strategies, retires one and hands it to the alerter on every partition', async () => {
    const keys = keysFor(uniquePrefix('fcl'));
    for (let p = 0; p < 6; p++) {
      const pk = keys.partition(p);
      await redis.set(pk.lease('scorer'), `me#${p}`);
      const lease: Lease = {
        partition: p,
        token: `me#${p}`,
        epoch: 1,
        signal: new AbortController().signal,
        lost: () => undefined,
      };
      const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
      for (const [i, s] of ['idle', 'retired'].entries()) {
        core.apply(`${i + 1}-0`, { strategy: s, ts: T0, return: 0.01, receivedAt: T0 }, T0);
        await redis.hset(pk.latestScores, s, JSON.stringify({ receivedAt: T0, ts: T0 }));
        await redis.hset(pk.ingestLastTs, s, String(T0));
      }
      const sweep = new ForgetSweep({ redis, pk, lease, core, afterMs: 60_000, log });
      const scoresId = await redis.xadd(pk.scores, '*', 'd', '{}');
      await redis.xgroup('CREATE', pk.scores, 'alerter', '$');
      await redis.hset(pk.retire('scorer'), 'retired', JSON.stringify({ by: 'adam', at: T0 }));
      expect(await sweep.retire()).toBe(1);
      expect(await sweep.idle(T0 + 120_000)).toBe(1);
      expect(await redis.hlen(pk.latestScores)).toBe(0);
      const handed = RetireRequest.parse(
        JSON.parse((await redis.hget(pk.retire('alerter'), 'retired'))!),
      );
      expect(handed.scoresId).toBe(scoresId);

      const plan = new AlerterForgetPlan({ redis, pk, group: 'alerter', afterMs: 0, log });
      const ac = new AlerterCore(compileRules({}, 0), 20, new Map(), new Map(), T0);
      const [batch] = await plan.pick(ac, T0);
      expect(batch?.retired).toEqual(['retired']);
      await plan.done(batch!);
      expect(await redis.hlen(pk.retire('alerter'))).toBe(0);
    }
    await redis.hset(keys.latestSystem, 'h', JSON.stringify({ host: 'h', ts: T0 }));
    expect(await sweepLatestSystem(redis, keys.latestSystem, T0 + 1)).toBe(1);
  }, 120_000);
});
