/**
 * The scorer's read cycle under a steady flow (partition-scorer.ts,
 * LINGER_MS): after a batch of several samples a partition is not read
 * again until the cycle has lasted its linger, so a moderate rate is read
 * in batches that conflate; a lone sample is never held; and a term that
 * ends while lingering ends at once, leaving what it had not read to the
 * next owner.
 */
import { appendSamples, keysFor, type Lease, type StrategySample } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FULL_READ_PER_STRATEGY,
  LINGER_AFTER,
  READ_COUNT,
  scorePartition,
} from '../../services/scorer/src/partition-scorer.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/streams.js';

let srv: TestRedis;
let redis: Redis;
const readers: Redis[] = [];

beforeAll(async () => {
  srv = await startTestRedis();
  redis = new Redis(srv.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  for (const r of readers) r.disconnect();
  await srv.dispose();
});

const metricsOptions = {
  window: 100,
  periodsPerYear: 252,
  riskFree: 0,
  requiredReturn: 0,
  varCutoff: 0.05,
};

/** A term of partition 0 holding the lease key itself (no ownership loop: the test is the owner). */
async function term(prefix: string, token: string, lingerMs: number) {
  const keys = keysFor(prefix);
  await redis.set(keys.partition(0).lease('scorer'), token);
  const ctl = new AbortController();
  const lease: Lease = {
    partition: 0,
    token,
    epoch: 1,
    signal: ctl.signal,
    lost: () => ctl.abort(),
  };
  const done = scorePartition(
    {
      writer: redis,
      newReader: () => {
        const r = new Redis(srv.url, { maxRetriesPerRequest: null });
        readers.push(r);
        return r;
      },
      closeReader: async (r) => void r.disconnect(),
      keys,
      metricsOptions,
      log: pino({ level: 'silent' }),
      lingerMs,
      partitions: 1,
    },
    lease,
  );
  return { keys, done, end: () => ctl.abort() };
}

let seq = 0;
const sample = (strategy: string): StrategySample => ({
  strategy,
  ts: 1_767_225_600_000 + ++seq * 1000,
  return: 0.001 * ((seq % 7) - 3),
  id: `${strategy}-${seq}`,
  receivedAt: Date.now(),
});

describe('scorer read cycle under a steady flow', () => {
  it('scores a lone sample at once, holds the read after a batch of several, and ends a lingering term at once', async () => {
    const prefix = uniquePrefix('linger');
    // A linger far longer than any wait below: a sample scored in time was not
    // held. The reads keep a beat of multiples of the linger on the wall clock,
    // so the beat after the batch is days away (~23 days; under setTimeout's limit).
    const t = await term(prefix, 'r1#1', 2_000_000_000);
    const scores = t.keys.partition(0).scores;
    const write = (xs: StrategySample[]) => appendSamples(redis, prefix, xs, { partitions: 1 });
    const written = () => redis.xlen(scores);

    await write([sample('a')]);
    await until(async () => (await written()) === 1, 'the first lone sample scored');
    await write([sample('a')]);
    await until(
      async () => (await written()) === 2,
      'a second lone sample scored without a linger',
    );

    // A batch of LINGER_AFTER samples over two strategies: one update each, then the linger.
    const batch = Array.from({ length: LINGER_AFTER }, (_, i) => sample(i % 2 ? 'a' : 'b'));
    await write(batch);
    await until(async () => (await written()) === 4, 'the batch scored, one update per strategy');
    // Each covers two samples: the stream's entry carries their span, the latest state does not.
    const [entry] = (await redis.xrevrange(scores, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const streamed = JSON.parse(entry![1][1]!) as { strategy: string; span?: { samples: number } };
    expect(streamed.span?.samples).toBe(LINGER_AFTER / 2);
    const { span: _span, ...state } = streamed;
    const latest: unknown = JSON.parse(
      (await redis.hget(t.keys.partition(0).latestScores, streamed.strategy))!,
    );
    expect(latest).toEqual(state);
    await write([sample('b')]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await written()).toBe(4); // still lingering: not read yet

    const t0 = Date.now();
    t.end();
    await t.done;
    expect(Date.now() - t0).toBeLessThan(10_000); // the linger is abortable, not 600 s
    expect(await written()).toBe(4);

    // The next term (another token, no linger) starts at the committed position: the sample is not lost.
    const next = await term(prefix, 'r2#2', 0);
    await until(async () => (await written()) === 5, 'the unread sample scored by the next term');
    const [last] = (await redis.xrevrange(scores, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const update = JSON.parse(last![1][1]!) as { strategy: string; id: string; count: number };
    expect(update.strategy).toBe('b');
    expect(update.id).toBe(`b-${seq}`);
    expect(update.count).toBe(LINGER_AFTER / 2 + 1);
    next.end();
    await next.done;
  });

  it('reads a backlog over many strategies in reads that grow with them: fewer updates per sample', async () => {
    const prefix = uniquePrefix('wide-read');
    // More strategies than a fixed read of READ_COUNT covers 16 times over.
    const strategies = Math.ceil(READ_COUNT / FULL_READ_PER_STRATEGY) + 175;
    const perStrategy = FULL_READ_PER_STRATEGY;
    const backlog: StrategySample[] = [];
    for (let k = 0; k < perStrategy; k++) {
      for (let i = 0; i < strategies; i++) backlog.push(sample(`w${i}`));
    }
    await appendSamples(redis, prefix, backlog, { partitions: 1 });
    // No linger: every read follows the last at once, so reads are as full as the count allows.
    const t = await term(prefix, 'w1#1', 0);
    const pk = t.keys.partition(0);
    // Every sample applied: each strategy's latest state counts all of its samples.
    const counts = async () =>
      (await redis.hvals(pk.latestScores)).map((j) => (JSON.parse(j) as { count: number }).count);
    await until(async () => {
      const c = await counts();
      return c.length === strategies && c.every((n) => n === perStrategy);
    }, 'the backlog scored');
    t.end();
    await t.done;
    // The first read (READ_COUNT) meets every strategy; the next holds 16 per
    // strategy known, so the rest is one read: one update per strategy per read.
    expect(backlog.length).toBeGreaterThan(READ_COUNT);
    expect(backlog.length - READ_COUNT).toBeLessThanOrEqual(strategies * FULL_READ_PER_STRATEGY);
    expect(await redis.xlen(pk.scores)).toBe(2 * strategies);
  });
});
