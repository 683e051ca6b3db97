import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../test/helpers/redis-server.js';
import { eventually } from '../test/helpers/services.js';
import {
  describeSpans,
  readRewriteInfo,
  rewriteSpans,
  secondsTouched,
  watchAofRewrites,
  type RewriteReading,
} from './aof-rewrite-watch.js';
import { p99Outside } from './pipeline-latency.js';

const at = (t: number, inProgress: boolean, started: number): RewriteReading => ({
  at: t,
  inProgress,
  started,
});

describe('readRewriteInfo', () => {
  it('reads the two fields of INFO persistence, and names one that is missing', () => {
    const info = '# Persistence\r\naof_rewrite_in_progress:1\r\naof_rewrites:3\r\n';
    expect(readRewriteInfo(info, 5)).toEqual({ at: 5, inProgress: true, started: 3 });
    expect(() => readRewriteInfo('aof_rewrite_in_progress:0\r\n', 0)).toThrow(/aof_rewrites/);
  });
});

describe('rewriteSpans', () => {
  it('places a rewrite seen running from the reading before it started to the first reading after it ended', () => {
    const r = [at(0, false, 0), at(200, true, 1), at(400, true, 1), at(600, false, 1)];
    expect(rewriteSpans(r)).toEqual([{ from: 0, to: 600 }]);
  });

  it('keeps a rewrite still running at the end open, and one running at the start from there', () => {
    expect(rewriteSpans([at(0, false, 0), at(200, true, 1)])).toEqual([{ from: 0, to: undefined }]);
    expect(rewriteSpans([at(0, true, 4), at(200, false, 4)])).toEqual([{ from: 0, to: 200 }]);
  });

  it('counts rewrites shorter than the poll from the counter', () => {
    expect(rewriteSpans([at(0, false, 1), at(200, false, 3)])).toEqual([
      { from: 0, to: 200 },
      { from: 0, to: 200 },
    ]);
    // One came and went, the next is running.
    expect(rewriteSpans([at(0, false, 1), at(200, true, 3), at(400, false, 3)])).toEqual([
      { from: 0, to: 200 },
      { from: 0, to: 400 },
    ]);
  });

  it('sees nothing when no rewrite started', () => {
    expect(rewriteSpans([at(0, false, 2), at(200, false, 2), at(400, false, 2)])).toEqual([]);
  });
});

describe('secondsTouched', () => {
  it('marks the seconds a rewrite ran in and the one after, within the phase', () => {
    const t0 = 1_000_000;
    const spans = [{ from: t0 + 6_400, to: t0 + 8_100 }];
    expect([...secondsTouched(spans, t0, 10)]).toEqual([6, 7, 8, 9]);
    // Still running at the end: every second from its start, within the phase.
    expect([...secondsTouched([{ from: t0 + 7_200, to: undefined }], t0, 10)]).toEqual([7, 8, 9]);
    // Before or after the phase: none.
    expect(secondsTouched([{ from: t0 - 5_000, to: t0 - 1_010 }], t0, 10).size).toBe(0);
    expect(secondsTouched([{ from: t0 + 10_500, to: t0 + 12_000 }], t0, 10).size).toBe(0);
    // One that ended just before the phase still touches its first second (its backlog).
    expect([...secondsTouched([{ from: t0 - 3_000, to: t0 - 10 }], t0, 10)]).toEqual([0]);
  });

  it('describes spans in seconds of the phase', () => {
    expect(
      describeSpans(
        [
          { from: 1_000, to: 3_500 },
          { from: 9_000, to: undefined },
        ],
        0,
      ),
    ).toBe('from 1.0 s to 3.5 s, from 9.0 s to past the end');
  });
});

describe('p99Outside', () => {
  it('takes the p99 of the seconds left in, not of the whole phase', () => {
    const calm = Array.from({ length: 100 }, (_, i) => 40 + (i % 10));
    const stalled = Array.from({ length: 100 }, () => 300);
    const bySecond = [calm, calm, stalled, calm];
    expect(p99Outside(bySecond, new Set([2]))).toEqual({ p99: 49, n: 300 });
    expect(p99Outside(bySecond, new Set()).p99).toBe(300);
  });
});

describe('watchAofRewrites on a real Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.dispose();
  });

  it('sees a rewrite that ran while it watched, and none when none did', async () => {
    const idle = watchAofRewrites(redis, 20);
    await new Promise((r) => setTimeout(r, 100));
    expect(await idle.stop()).toEqual([]);

    const persistence = await redis.info('persistence');
    if (!/aof_enabled:1/.test(persistence)) return; // an external Redis without AOF
    const before = readRewriteInfo(persistence, 0).started;
    const watch = watchAofRewrites(redis, 20);
    await redis.set('aof-rewrite-watch', 'x');
    await redis.bgrewriteaof();
    await eventually(
      async () => {
        const r = readRewriteInfo(await redis.info('persistence'), 0);
        return r.started > before && !r.inProgress ? true : undefined;
      },
      10_000,
      'the rewrite',
    );
    const spans = await watch.stop();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.to).toBeDefined();
    expect(spans[0]!.from).toBeLessThanOrEqual(spans[0]!.to!);
  });
});
