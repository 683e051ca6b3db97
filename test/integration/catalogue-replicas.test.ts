import {
  createRedis,
  keysFor,
  partitionOf,
  publishSamples,
  readJsonHash,
  ScoreUpdate,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';

/**
 * The admin API's catalogue reaches every scorer replica (issue 15): two
 * scorers share four partitions, no STRATEGIES_FILE; a PUT through the
 * gateway changes the parameters of strategies owned by both, and each
 * replica rebuilds its own.
 */
const P = 4;
const T0 = Date.parse('2026-03-02T14:30:00Z');

describe('strategy catalogue across scorer replicas', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  const running: RunningService[] = [];
  const prefix = uniquePrefix('catalogue-replicas');
  const keys = keysFor(prefix);
  // Strategies spread over every partition, so both replicas own some.
  const ids = Array.from({ length: 16 }, (_, i) => `fx-${i}`);
  const sent = new Map<string, number>();

  const publish = async (): Promise<void> => {
    const batch = ids.flatMap((strategy) => {
      const n = sent.get(strategy) ?? 0;
      sent.set(strategy, n + 5);
      return Array.from({ length: 5 }, (_, k) => ({
        strategy,
        ts: T0 + (n + k) * 60_000,
        return: Math.sin(n + k) / 200,
        id: `${strategy}-${n + k}`,
      }));
    });
    await publishSamples(redis, batch, { prefix, partitions: P });
  };
  /** Every strategy's latest update once it includes every sample sent. */
  const latest = (what: string) =>
    eventually(
      async () => {
        const out = new Map<string, ScoreUpdate>();
        for (const id of ids) {
          const pk = keys.partition(partitionOf(id, P));
          const u = (await readJsonHash(redis, pk.latestScores, ScoreUpdate)).get(id);
          if (!u || u.id !== `${id}-${sent.get(id)! - 1}`) return undefined;
          out.set(id, u);
        }
        return out;
      },
      60_000,
      what,
    );

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = createRedis(redisServer.url, 'blocking', 'catalogue-replicas-test');
    const env = {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(P),
      LEASE_TTL_MS: '2000',
      LOG_LEVEL: 'info',
    };
    running.push(await startService('scorer', env), await startService('scorer', env));
    running.push(await startService('gateway', { ...env, GATEWAY_TOKENS: 'ann:admin:tok' }));
  });
  afterAll(async () => {
    const codes = await Promise.all(running.map((s) => s.stop()));
    redis?.disconnect();
    await redisServer?.dispose();
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  it('applies a PUT /api/catalogue on every replica, each rebuilding the strategies it owns', async () => {
    const [a, b, gateway] = running;
    // Both replicas hold partitions before the change.
    await eventually(
      async () => {
        const owned = await Promise.all(
          [a!, b!].map(async (s) => {
            const info = (await (await fetch(`http://127.0.0.1:${s.port}/healthz`)).json()) as {
              partitions?: number[];
            };
            return info.partitions?.length ?? 0;
          }),
        );
        return owned.every((n) => n > 0) && owned[0]! + owned[1]! === P ? true : undefined;
      },
      30_000,
      'both scorers owning partitions',
    );
    await publish();
    const before = await latest('the first updates');
    for (const u of before.values()) expect(u.params).toBeUndefined();

    const res = await fetch(`http://127.0.0.1:${gateway!.port}/api/catalogue`, {
      method: 'PUT',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/yaml' },
      body: "strategies:\n  'fx-*': { interval: 1m, windows: [3], tags: { desk: fx } }\n",
    });
    expect(res.status).toBe(200);
    await eventually(
      () =>
        [a!, b!].every((s) => /windows rebuilt by replay/.test(s.output())) ? true : undefined,
      30_000,
      'a rebuild on both replicas',
    );
    await publish();
    const after = await latest('the updates after the change');
    for (const [id, u] of after) {
      expect(u.params?.periodsPerYear, id).toBe(98_280);
      expect(u.windows?.['3']?.count, id).toBe(3);
      expect(u.tags, id).toEqual({ desk: 'fx' });
      // Rebuilt from the 5 samples it had, then the 5 new ones.
      expect(u.count, id).toBe(10);
    }
  });
});
