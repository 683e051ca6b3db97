import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromMetricValue, keysFor, partitionOf, ScoreUpdate } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startPipeline, type Pipeline } from '../helpers/services.js';
import { alertEvents, type AlertsFixture } from './alerts-helpers.js';

/**
 * Derived metrics end to end: the catalogue defines one, the scorer puts
 * it in every score update, and an alert rule on `derived.<name>` fires
 * from it, through the four services.
 */
describe('derived metrics through the pipeline', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let dir: string;
  const prefix = uniquePrefix('derived');
  const keys = keysFor(prefix);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    dir = mkdtempSync(join(tmpdir(), 'quantmon-derived-'));
    const strategies = join(dir, 'strategies.yaml');
    writeFileSync(
      strategies,
      `
strategies:
  'fx-*': { interval: 1m, tags: { desk: fx } }
derived:
  - name: lossPct
    expression: -currentDrawdown * 100
  - name: lossPerVol
    expression: lossPct / (annualVolatility * 100)
`,
    );
    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      `
rules:
  loss_pct:
    metric: derived.lossPct
    comparison: '>'
    threshold: 5
    level: warning
    subject: strategy
    recommendation: Down more than 5 % from the peak.
`,
    );
    pipeline = await startPipeline(redisServer.url, prefix, {
      PARTITIONS: '1',
      STRATEGIES_FILE: strategies,
      RULES_FILE: rules,
      ALERTER_MIN_OBSERVATIONS: '1',
    });
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('computes the catalogue derived metrics into score updates and alerts on one', async () => {
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    const res = await pipeline.post(
      Array.from({ length: 30 }, (_, i) => ({
        strategy: 'fx-eurusd',
        ts: t0 + i * 60_000,
        return: i < 10 ? 0.002 : -0.01,
      })),
    );
    expect(res.status).toBe(202);
    const pk = keys.partition(partitionOf('fx-eurusd', 1));
    const latest = await eventually(
      async () => {
        const raw = await redis.hget(pk.latestScores, 'fx-eurusd');
        const u = raw === null ? undefined : ScoreUpdate.parse(JSON.parse(raw));
        return u && u.count === 30 ? u : undefined;
      },
      30_000,
      'the 30th score update',
    );
    const dd = fromMetricValue(latest.metrics.currentDrawdown);
    const vol = fromMetricValue(latest.metrics.annualVolatility);
    expect(dd).toBeLessThan(-0.1);
    expect(latest.derived?.['lossPct']).toBeCloseTo(-dd * 100, 9);
    expect(latest.derived?.['lossPerVol']).toBeCloseTo(-dd / vol, 9);
    expect(latest.tags).toEqual({ desk: 'fx' });
    const f: AlertsFixture = {
      server: redisServer,
      redis,
      prefix,
      bullPrefix: `${prefix}-bull`,
      keys,
      partitions: 1,
      env: pipeline.env,
    };
    const e = await eventually(
      async () => (await alertEvents(f)).find((x) => x.rule === 'loss_pct'),
      30_000,
      'the loss_pct alert',
    );
    expect(e).toMatchObject({
      state: 'firing',
      metric: 'derived.lossPct',
      subject: 'strategy/fx-eurusd',
      labels: { desk: 'fx' },
    });
    expect(e.value).toBeGreaterThan(5);
  });
});
