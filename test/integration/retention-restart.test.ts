import { createRedis, keysFor, publishSamples, readJsonHash, ScoreUpdate } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import { sleep } from '../helpers/streams.js';

/**
 * A short STREAM_RETENTION and a scorer restart (issue 14): the age trim
 * removes samples no window holds any more, never one a window still
 * holds, so the restarted scorer's replay rebuilds a slow strategy's
 * window in full.
 */
describe('stream retention across a scorer restart', () => {
  let server: TestRedis;
  let redis: Redis;
  let scorer: RunningService;
  const prefix = uniquePrefix('ret-restart');
  const pk = keysFor(prefix).partition(0);
  const env = (): Record<string, string> => ({
    REDIS_URL: server.url,
    QUANTMON_PREFIX: prefix,
    PARTITIONS: '1',
    SCORER_WINDOW: '20',
    STREAM_RETENTION: '1s',
  });
  const latest = (strategy: string, id: string) =>
    eventually(
      async () => {
        const u = (await readJsonHash(redis, pk.latestScores, ScoreUpdate)).get(strategy);
        return u?.id === id ? u : undefined;
      },
      30_000,
      `${strategy} through ${id}`,
    );
  const post = (strategy: string, from: number, n: number) =>
    publishSamples(
      redis,
      Array.from({ length: n }, (_, k) => ({
        strategy,
        ts: Date.UTC(2026, 0, 1) + (from + k) * 86_400_000,
        return: Math.sin(from + k) * 0.01,
        id: `${strategy}-${from + k}`,
      })),
      { prefix, partitions: 1 },
    );

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'blocking', 'ret-restart-test');
    scorer = await startService('scorer', env());
  });
  afterAll(async () => {
    await scorer?.stop();
    redis?.disconnect();
    await server?.dispose();
  });

  it('keeps the samples a window holds past the retention, and the restart rebuilds the full window', async () => {
    // A busy strategy posts 200 samples (its 20-sample window keeps the last 20)...
    for (let round = 0; round < 4; round++) await post('busy', round * 50, 50);
    await latest('busy', 'busy-199');
    // ...then a slow one fills its window (and 10 samples more, which leave it).
    await post('slow', 0, 30);
    await latest('slow', 'slow-29');
    // Past the 1 s retention, the trimmer removes what no window holds (whole nodes of 100)...
    await eventually(
      async () => ((await redis.xlen(pk.strategySamples)) <= 130 ? true : undefined),
      20_000,
      'old samples trimmed',
    );
    // ...and nothing from the oldest windowed sample (busy-180) on.
    const ids = (await redis.xrange(pk.strategySamples, '-', '+')).map(([, f]) =>
      String((JSON.parse(f[1]!) as { id: string }).id),
    );
    for (let i = 180; i < 200; i++) expect(ids).toContain(`busy-${i}`);
    for (let i = 0; i < 30; i++) expect(ids).toContain(`slow-${i}`);
    // Still held well past the retention: a window, not a lagging group, holds them.
    await sleep(2500);
    expect(await redis.xlen(pk.strategySamples)).toBe(ids.length);

    await scorer.kill();
    scorer = await startService('scorer', env());
    await post('slow', 30, 1);
    const u = await latest('slow', 'slow-30');
    expect(u.count).toBe(20); // a full window after the replay, not the 1 sample the retention alone would leave
    await post('busy', 200, 1);
    expect((await latest('busy', 'busy-200')).count).toBe(20);
  });
});
