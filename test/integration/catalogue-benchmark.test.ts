import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  createRedis,
  decodeEntry,
  fromMetricValue,
  keysFor,
  LiveCatalogue,
  METRIC_NAMES,
  readJsonHash,
  ScoreUpdate,
  StrategySample,
  type MetricValues,
  type RawEntry,
  type StrategyMetrics,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SampleSocket } from '../../packages/client/src/sample-socket.js';
import { BenchmarkReturns } from '../../services/collector/src/benchmark-returns.js';
import {
  computeMetrics,
  DEFAULT_METRICS_OPTIONS,
} from '../../services/scorer/src/metrics/index.js';
import { metricDifferences } from '../../services/scorer/src/metrics/testing/close-to.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';

/**
 * The catalogue's `benchmark:` end to end (issue 15): a real collector
 * fills a strategy's missing benchmarkReturn from its benchmark's samples,
 * the stored samples carry it, and the scorer's benchmark metrics (beta,
 * alpha, correlation, tracking error) equal a batch run over the same
 * aligned series.
 */
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const wave = (i: number, seed: number): number =>
  Math.sin(i * 0.61 + seed) * 0.01 + Math.cos(i * 0.17 + seed) * 0.004 + 0.0003;

const numeric = (m: StrategyMetrics): MetricValues =>
  Object.fromEntries(METRIC_NAMES.map((n) => [n, fromMetricValue(m[n])])) as MetricValues;

describe('catalogue benchmarks filled at ingest', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let collector: RunningService;
  let scorer: RunningService;
  let dir: string;
  const prefix = uniquePrefix('cat-bench');
  const keys = keysFor(prefix);
  const pk = keys.partition(0);

  const post = (body: unknown) =>
    fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const stored = async (strategy: string): Promise<StrategySample[]> => {
    const entries = (await redis.xrange(pk.strategySamples, '-', '+')) as RawEntry[];
    return entries
      .map((e) => decodeEntry(e[1], StrategySample))
      .filter((d) => d.ok && d.value.strategy === strategy)
      .map((d) => (d.ok ? d.value : (undefined as never)));
  };
  const latest = (strategy: string, lastId: string) =>
    eventually(
      async () => {
        const u = (await readJsonHash(redis, pk.latestScores, ScoreUpdate)).get(strategy);
        return u?.id === lastId ? u : undefined;
      },
      30_000,
      `${strategy}'s update through ${lastId}`,
    );

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = createRedis(redisServer.url, 'blocking', 'cat-bench-test');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-cat-bench-'));
    const file = join(dir, 'strategies.yaml');
    writeFileSync(
      file,
      ['strategies:', "  'eq-*':", '    interval: 1d', '    benchmark: spx', ''].join('\n'),
    );
    const env = {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '1',
      STRATEGIES_FILE: file,
    };
    [collector, scorer] = await Promise.all([
      startService('collector', { ...env, SYSTEM_INTERVAL_MS: '60000' }),
      startService('scorer', env),
    ]);
  });
  afterAll(async () => {
    const codes = await Promise.all([collector?.stop(), scorer?.stop()]);
    redis?.disconnect();
    await redisServer?.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  });

  it("scores a strategy against its benchmark's own returns, aligned by period", async () => {
    const n = 80;
    const spx = Array.from({ length: n }, (_, i) => wave(i, 0));
    const eq = Array.from({ length: n }, (_, i) => 0.7 * spx[i]! + wave(i, 2) * 0.3);
    // The benchmark's first 60 periods come first; its last 20 in the same request as the strategy's.
    const bench = (i: number) => ({
      strategy: 'spx',
      ts: T0 + i * DAY,
      return: spx[i]!,
      id: `spx-${i}`,
    });
    expect((await post(Array.from({ length: 60 }, (_, i) => bench(i)))).status).toBe(202);
    const own = (i: number) => ({
      strategy: 'eq-a',
      ts: T0 + i * DAY,
      return: eq[i]!,
      id: `eq-a-${i}`,
    });
    const mixed = [
      ...Array.from({ length: n }, (_, i) => own(i)),
      ...Array.from({ length: 20 }, (_, k) => bench(60 + k)),
    ];
    expect((await post(mixed)).status).toBe(202);

    const samples = await stored('eq-a');
    expect(samples.map((s) => s.benchmarkReturn)).toEqual(spx);
    const u = await latest('eq-a', `eq-a-${n - 1}`);
    const batch = computeMetrics(eq, spx, { ...DEFAULT_METRICS_OPTIONS, periodsPerYear: 252 });
    expect(metricDifferences(numeric(u.metrics), batch)).toEqual([]);
    expect(fromMetricValue(u.metrics.beta)).not.toBeNull();
    expect(fromMetricValue(u.metrics.beta)!).toBeGreaterThan(0.5);
  });

  it('fills samples sent one per message over the ingest socket, keeping their order', async () => {
    const socket = await SampleSocket.open({
      url: `ws://127.0.0.1:${collector.port}/v1/samples/ws`,
    });
    try {
      const n = 200;
      const at = (i: number) => T0 + (1000 + i) * DAY;
      // The benchmark's periods are answered before the strategy's are sent, as over HTTP.
      const benchAnswers = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          socket.send({ strategy: 'spx', ts: at(i), return: wave(i, 5), id: `spx-s${i}` }),
        ),
      );
      expect(benchAnswers.every((a) => a.status === 202)).toBe(true);
      // Each strategy message waits for its fill (a Redis read) before it is
      // queued; many are in flight, and the stream keeps the order they were sent in.
      const answers = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          socket.send({ strategy: 'eq-s', ts: at(i), return: 0.001 * i, id: `eq-s-${i}` }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(n).fill(202));
      const samples = await stored('eq-s');
      expect(samples.map((s) => s.ts)).toEqual(Array.from({ length: n }, (_, i) => at(i)));
      expect(samples.map((s) => s.benchmarkReturn)).toEqual(
        Array.from({ length: n }, (_, i) => wave(i, 5)),
      );
    } finally {
      await socket.close();
    }
  });

  it('keeps a posted benchmarkReturn, and leaves a period its benchmark lacks without one', async () => {
    const body = [
      { strategy: 'eq-b', ts: T0, return: 0.01, benchmarkReturn: 0.5, id: 'eq-b-0' },
      { strategy: 'eq-b', ts: T0 + DAY, return: 0.02, id: 'eq-b-1' },
      // spx has no sample at this period (a holiday of the index, a late feed).
      { strategy: 'eq-b', ts: T0 + 500 * DAY, return: 0.03, id: 'eq-b-2' },
      // Not in the catalogue's eq-* pattern: never filled.
      { strategy: 'fx-c', ts: T0, return: 0.04, id: 'fx-c-0' },
    ];
    expect((await post(body)).status).toBe(202);
    expect((await stored('eq-b')).map((s) => s.benchmarkReturn)).toEqual([
      0.5,
      wave(1, 0),
      undefined,
    ]);
    expect((await stored('fx-c'))[0]!.benchmarkReturn).toBeUndefined();
  });

  it("keeps a benchmark's latest periods only, and forgets an idle benchmark", async () => {
    const live = await LiveCatalogue.start({
      redis,
      keys,
      file: join(dir, 'strategies.yaml'),
      log: createLogger('cat-bench-test', 'silent'),
    });
    try {
      const store = new BenchmarkReturns({
        redis,
        keys,
        catalogue: live,
        idleForgetAfterMs: 60_000,
        kept: 3,
      });
      const k = keys.benchmarkReturns('spx');
      const samples = Array.from({ length: 5 }, (_, i) => ({
        strategy: 'spx',
        ts: 10 + i,
        return: i / 100,
        receivedAt: 1,
      }));
      await redis.del(k.returns, k.index);
      await store.record(samples, {
        accepted: 5,
        duplicates: 0,
        outOfOrder: 0,
        late: 0,
        reordered: 0,
        outcomes: ['written', 'written', 'written', 'written', 'written'],
      });
      expect(await redis.hgetall(k.returns)).toEqual({ '12': '0.02', '13': '0.03', '14': '0.04' });
      expect(await redis.zrange(k.index, '0', '-1')).toEqual(['12', '13', '14']);
      const ttl = await redis.pttl(k.returns);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      const filled = await store.fill([
        { strategy: 'eq-z', ts: 13, return: 0.1, receivedAt: 1 },
        { strategy: 'eq-z', ts: 11, return: 0.1, receivedAt: 1 },
      ]);
      expect(filled.map((s) => s.benchmarkReturn)).toEqual([0.03, undefined]);
    } finally {
      live.close();
    }
  });
});
