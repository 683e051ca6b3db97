import { isDeepStrictEqual } from 'node:util';
import {
  groupPosition,
  createRedis,
  fromMetricValue,
  GROUPS,
  keysFor,
  loadScorerConfig,
  METRIC_NAMES,
  publishSamples,
  ScoreUpdate,
  StrategySample,
  type MetricValues,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMetrics } from '../../services/scorer/src/metrics/index.js';
import { closeTo, metricDifferences } from '../../services/scorer/src/metrics/testing/close-to.js';
import { ScorerCore } from '../../services/scorer/src/scorer-core.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { coverageProblems } from '../helpers/score-coverage.js';
import { startService, type RunningService } from '../helpers/services.js';
import { readEntries, sleep, until, waitDrained } from '../helpers/streams.js';

/**
 * A real scorer process killed with SIGKILL in the middle of a long stream
 * of samples and started again: every sample gets exactly one score update,
 * and the rolling window rebuilt by replay gives the same metrics as a
 * scorer that never crashed.
 */
const WINDOW = 1000;
const TOTAL = 5000;
const CHUNK = 100;
const STRATEGIES = ['restart-a', 'restart-b'] as const;

/** A deterministic return series with a benchmark, so every metric is exercised. */
function samples(): Record<string, unknown>[] {
  let x = 12345;
  const next = (): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  };
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  return Array.from({ length: TOTAL }, (_, i) => {
    const benchmarkReturn = 0.02 * next();
    return {
      strategy: STRATEGIES[i % 2],
      ts: t0 + Math.floor(i / 2) * 60_000,
      return: 0.6 * benchmarkReturn + 0.03 * next() + 0.0005,
      benchmarkReturn,
      id: `s-${i}`,
    };
  });
}

function numeric(u: ScoreUpdate): MetricValues {
  return Object.fromEntries(
    METRIC_NAMES.map((n) => [n, fromMetricValue(u.metrics[n])]),
  ) as MetricValues;
}

describe('scorer crash and restart', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let scorer: RunningService | undefined;
  const prefix = uniquePrefix('scorer');
  // One partition: this suite checks the global stream order of one lane.
  const keys = keysFor(prefix).partition(0);
  const env = (p = prefix): Record<string, string> => ({
    REDIS_URL: redisServer.url,
    QUANTMON_PREFIX: p,
    SCORER_WINDOW: String(WINDOW),
    PARTITIONS: '1',
  });

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = createRedis(redisServer.url, 'blocking', 'scorer-restart-test');
  });
  afterAll(async () => {
    await scorer?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
  });

  it('applies every sample exactly once across a SIGKILL, with the window rebuilt by replay', async () => {
    const all = samples();
    scorer = await startService('scorer', env());
    const killAt = TOTAL * 0.4;
    for (let i = 0; i < killAt; i += CHUNK) {
      await publishSamples(redis, all.slice(i, i + CHUNK), { prefix, partitions: 1 });
    }
    // Kill while it is working through the backlog: no shutdown, no final ack.
    await until(async () => (await redis.xlen(keys.scores)) > 0, 'the first score updates');
    await scorer.kill();
    const scoredAtKill = await redis.xlen(keys.scores);
    for (let i = killAt; i < TOTAL; i += CHUNK) {
      await publishSamples(redis, all.slice(i, i + CHUNK), { prefix, partitions: 1 });
    }
    expect(scoredAtKill).toBeLessThan(TOTAL);

    scorer = await startService('scorer', env());
    await waitDrained(redis, keys.strategySamples, GROUPS.scorer, 60_000);

    const sampleEntries = await readEntries(redis, keys.strategySamples, StrategySample);
    const updates = await readEntries(redis, keys.scores, ScoreUpdate);
    expect(sampleEntries).toHaveLength(TOTAL);
    // Every sample in exactly one update, in stream order: none missing, none doubled.
    expect(coverageProblems(sampleEntries, updates)).toEqual([]);

    // A scorer that never crashed, fed the same entries in the same order.
    const config = loadScorerConfig({ SCORER_WINDOW: String(WINDOW) });
    const options = {
      window: config.window,
      periodsPerYear: config.periodsPerYear,
      riskFree: config.riskFree,
      requiredReturn: config.requiredReturn,
      varCutoff: config.varCutoff,
    };
    const reference = new ScorerCore(options);
    // Equal up to rounding: RollingMetrics re-anchors its sums inside values() when they grow
    // ill-conditioned, so a window rebuilt by replay (push only) can differ in the last bits.
    const differing: string[] = [];
    const expectedAt = new Map(
      sampleEntries.map((s) => [s.id, reference.apply(s.id, s.value, 0)] as const),
    );
    updates.forEach(({ value: actual }, i) => {
      const s = { id: actual.sampleEntryId };
      const expected = expectedAt.get(s.id);
      if (!expected) return void differing.push(`${s.id}: no such sample`);
      const problems = [
        ...(actual.count === expected.count ? [] : [`count ${actual.count} vs ${expected.count}`]),
        ...(isDeepStrictEqual(actual.status, expected.status) ? [] : ['status']),
        ...metricDifferences(numeric(actual), numeric(expected)),
        ...(['performance', 'risk', 'stability'] as const)
          .filter((k) => !closeTo(actual.scores[k], expected.scores[k]))
          .map((k) => `score ${k}`),
      ];
      if (problems.length > 0) differing.push(`${s.id} (#${i}): ${problems.join(', ')}`);
    });
    expect(differing).toEqual([]);

    // The final update per strategy covers a full window, and matches the batch reference.
    for (const strategy of STRATEGIES) {
      const own = sampleEntries.filter((s) => s.value.strategy === strategy);
      const last = updates.filter((u) => u.value.strategy === strategy).at(-1)?.value;
      expect(last?.sampleEntryId).toBe(own.at(-1)?.id);
      expect(last?.count).toBe(Math.min(WINDOW, own.length));
      const windowed = own.slice(-WINDOW).map((s) => s.value);
      const batch = computeMetrics(
        windowed.map((s) => s.return),
        windowed.map((s) => s.benchmarkReturn ?? null),
        options,
      );
      expect(metricDifferences(numeric(last!), batch, 1e-7, 1e-10)).toEqual([]);
    }
  });

  it('scores every sample exactly once when Redis restarts while the scorer works through a backlog', async () => {
    if (redisServer.kind === 'external') return; // an external Redis cannot be restarted
    const p = uniquePrefix('scorer-outage');
    const k = keysFor(p).partition(0);
    const backlog = Array.from({ length: 20_000 }, (_, i) => ({
      strategy: `outage-${i % 4}`,
      ts: Date.parse('2026-01-01T00:00:00Z') + i * 1000,
      return: Math.sin(i) / 100,
      id: `o-${i}`,
    }));
    for (let i = 0; i < backlog.length; i += 1000) {
      await publishSamples(redis, backlog.slice(i, i + 1000), { prefix: p, partitions: 1 });
    }
    await scorer?.stop();
    scorer = await startService('scorer', env(p));
    // Stop Redis with reads and score writes in flight.
    await until(
      async () => (await groupPosition(redis, k.strategySamples, GROUPS.scorer, '0')).read >= 2000,
      'the scorer under way',
    );
    await redisServer.stop();
    await sleep(1000);
    await redisServer.start();
    await waitDrained(redis, k.strategySamples, GROUPS.scorer, 90_000);

    const entries = await readEntries(redis, k.strategySamples, StrategySample);
    const updates = await readEntries(redis, k.scores, ScoreUpdate);
    expect(coverageProblems(entries, updates)).toEqual([]);
    const last = updates.at(-1)?.value;
    expect(last?.id).toBe('o-19999');
    expect(last?.count).toBe(WINDOW);
  }, 120_000);

  it('exits 0 on SIGTERM', async () => {
    await scorer?.stop();
    scorer = await startService('scorer', env());
    const s = scorer;
    scorer = undefined;
    expect(await s.stop()).toBe(0);
  });
});
