import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditEvent,
  createRedis,
  decodeEntry,
  fromMetricValue,
  keysFor,
  METRIC_NAMES,
  publishSamples,
  readJsonHash,
  ScoreUpdate,
  type MetricValues,
  type RawEntry,
  type StrategyMetrics,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeMetrics,
  DEFAULT_METRICS_OPTIONS,
} from '../../services/scorer/src/metrics/index.js';
import { metricDifferences } from '../../services/scorer/src/metrics/testing/close-to.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import {
  eventually,
  ROOT,
  startService,
  startServices,
  type RunningService,
} from '../helpers/services.js';

/**
 * The strategy catalogue end to end (issue 15): a real scorer and gateway
 * on a real Redis, a minute and a daily strategy side by side, and
 * catalogue edits (the file, a bad edit, the admin API) applied without a
 * restart, each rebuilding the changed strategy's windows by replay.
 */
const T0 = Date.parse('2026-03-02T14:30:00Z');
const ret = (i: number, seed: number): number =>
  Math.sin(i * 0.77 + seed) * 0.003 + Math.cos(i * 0.21) * 0.001 + 0.0001;

const numeric = (m: StrategyMetrics): MetricValues =>
  Object.fromEntries(METRIC_NAMES.map((n) => [n, fromMetricValue(m[n])])) as MetricValues;

describe('strategy catalogue', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let scorer: RunningService;
  let gateway: RunningService;
  let dir: string;
  let file: string;
  let scorerEnv: Record<string, string>;
  const prefix = uniquePrefix('catalogue');
  const keys = keysFor(prefix);
  const pk = keys.partition(0);
  const sent = new Map<string, number[]>();

  const writeCatalogue = (text: string): void => writeFileSync(file, text);
  const publish = async (strategy: string, n: number, stepMs: number, seed: number) => {
    const have = sent.get(strategy) ?? [];
    const batch = Array.from({ length: n }, (_, k) => {
      const i = have.length + k;
      return { strategy, ts: T0 + i * stepMs, return: ret(i, seed), id: `${strategy}-${i}` };
    });
    have.push(...batch.map((s) => s.return));
    sent.set(strategy, have);
    await publishSamples(redis, batch, { prefix, partitions: 1 });
  };
  /** The strategy's latest update once it includes every sample sent. */
  const latest = (strategy: string, what = `${strategy}'s latest update`) =>
    eventually(
      async () => {
        const u = (await readJsonHash(redis, pk.latestScores, ScoreUpdate)).get(strategy);
        const n = sent.get(strategy)?.length ?? 0;
        return u && u.id === `${strategy}-${n - 1}` ? u : undefined;
      },
      30_000,
      what,
    );
  const logged = (pattern: RegExp, what: string) =>
    eventually(() => (pattern.test(scorer.output()) ? true : undefined), 30_000, what);
  const api = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${gateway.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = createRedis(redisServer.url, 'blocking', 'catalogue-test');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-catalogue-'));
    file = join(dir, 'strategies.yaml');
    writeCatalogue(
      [
        'strategies:',
        "  'fx-*':",
        '    interval: 1m',
        '    windows: [20]',
        '    tags: { desk: fx, asset_class: fx }',
        "  'eq-*':",
        '    interval: 1d',
        '    tags: { desk: equities }',
        '',
      ].join('\n'),
    );
    const env = {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '1',
      STRATEGIES_FILE: file,
      LOG_LEVEL: 'info',
    };
    scorerEnv = env;
    [scorer, gateway] = (await startServices([
      { name: 'scorer', env },
      {
        name: 'gateway',
        env: { ...env, GATEWAY_TOKENS: 'ann:admin:admin-token,bob:operator:operator-token' },
      },
    ])) as [RunningService, RunningService];
  });
  afterAll(async () => {
    const codes = await Promise.all([scorer?.stop(), gateway?.stop()]);
    redis?.disconnect();
    await redisServer?.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  });

  it('scores a minute and a daily strategy side by side, each at its own periods per year', async () => {
    await publish('fx-eurusd', 120, 60_000, 1);
    await publish('eq-spy', 120, 86_400_000, 2);
    const fx = await latest('fx-eurusd');
    const eq = await latest('eq-spy');
    const r = (s: string) => sent.get(s)!;
    const at = (ppy: number, window = 1000) => ({
      ...DEFAULT_METRICS_OPTIONS,
      periodsPerYear: ppy,
      window,
    });
    expect(fx.params?.periodsPerYear).toBe(98_280);
    expect(eq.params?.periodsPerYear).toBe(252);
    expect(
      metricDifferences(numeric(fx.metrics), computeMetrics(r('fx-eurusd'), undefined, at(98_280))),
    ).toEqual([]);
    expect(
      metricDifferences(numeric(eq.metrics), computeMetrics(r('eq-spy'), undefined, at(252))),
    ).toEqual([]);
    expect(
      metricDifferences(
        numeric(fx.windows!['20']!.metrics),
        computeMetrics(r('fx-eurusd').slice(-20), undefined, at(98_280, 20)),
      ),
    ).toEqual([]);
    // The batch command, given the same catalogue and series, agrees with the live pipeline.
    for (const [id, u] of [
      ['fx-eurusd', fx],
      ['eq-spy', eq],
    ] as const) {
      const input = join(dir, `${id}.json`);
      writeFileSync(input, JSON.stringify({ returns: r(id) }));
      const cli = spawnSync(
        join(ROOT, 'node_modules/.bin/tsx'),
        ['services/scorer/src/cli/metrics.ts', '--strategies', file, '--strategy', id, input],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(cli.status, cli.stderr).toBe(0);
      const batch = Object.fromEntries(
        Object.entries(JSON.parse(cli.stdout) as Record<string, unknown>).map(([k, v]) => [
          k,
          fromMetricValue(v as never),
        ]),
      ) as MetricValues;
      expect(metricDifferences(numeric(u.metrics), batch)).toEqual([]);
    }
    expect(fx.tags).toEqual({ desk: 'fx', asset_class: 'fx' });
    expect(eq.tags).toEqual({ desk: 'equities' });
    expect(eq.windows).toBeUndefined();
  });

  it('applies a file edit without a restart, rebuilding the changed strategy by replay', async () => {
    writeCatalogue(
      [
        'strategies:',
        "  'fx-*': { interval: 1h, windows: [20, 60], tags: { desk: fx-macro } }",
        "  'eq-*': { interval: 1d, tags: { desk: equities } }",
        '',
      ].join('\n'),
    );
    await logged(/"strategy":"fx-eurusd".*windows rebuilt by replay/, 'the rebuild log line');
    await publish('fx-eurusd', 1, 60_000, 1);
    await publish('eq-spy', 1, 86_400_000, 2);
    const fx = await latest('fx-eurusd');
    expect(fx.params?.periodsPerYear).toBeCloseTo(1638, 9);
    expect(fx.rebuilt?.reason).toMatch(/periodsPerYear 98280 -> 1638/);
    expect(fx.rebuilt?.samples).toBe(120);
    expect(fx.count).toBe(121);
    const r = sent.get('fx-eurusd')!;
    const opts = { ...DEFAULT_METRICS_OPTIONS, periodsPerYear: 1638 };
    expect(metricDifferences(numeric(fx.metrics), computeMetrics(r, undefined, opts))).toEqual([]);
    expect(
      metricDifferences(
        numeric(fx.windows!['60']!.metrics),
        computeMetrics(r.slice(-60), undefined, { ...opts, window: 60 }),
      ),
    ).toEqual([]);
    expect(fx.tags).toEqual({ desk: 'fx-macro' });
    // Untouched parameters: no rebuild.
    const eq = await latest('eq-spy');
    expect(eq.rebuilt).toBeUndefined();
    expect(eq.count).toBe(121);
  });

  it('keeps the previous catalogue after a bad edit, naming what is wrong', async () => {
    writeCatalogue("strategies:\n  'fx-*': { interval: 5x }\n");
    await logged(
      /strategies\.fx-\*\.interval.*strategy catalogue reload failed: keeping the previous catalogue/,
      'the failed reload log line',
    );
    await publish('fx-eurusd', 1, 60_000, 1);
    const fx = await latest('fx-eurusd');
    expect(fx.params?.periodsPerYear).toBeCloseTo(1638, 9);
    expect(fx.rebuilt).toBeUndefined();
  });

  it('takes the admin API catalogue for every replica, audited, and goes back to the file on DELETE', async () => {
    const catalogue = { strategies: { 'fx-*': { periodsPerYear: 12, windows: [30] } } };
    expect((await api('PUT', '/api/catalogue', 'operator-token', { catalogue })).status).toBe(403);
    const bad = await api('PUT', '/api/catalogue', 'admin-token', {
      catalogue: { strategies: { 'fx-*': { periodsPerYear: -1 } } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/strategies\.fx-\*\.periodsPerYear/);
    const put = await api('PUT', '/api/catalogue', 'admin-token', {
      catalogue,
      comment: 'monthly',
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ version: 1, by: 'ann', changes: ['+fx-*'] });

    const got = (await (await api('GET', '/api/catalogue', 'operator-token')).json()) as {
      source: string;
      catalogue: unknown;
    };
    expect(got).toMatchObject({ source: 'api', catalogue });
    const resolved = (await (
      await api('GET', '/api/catalogue/resolve?strategy=fx-eurusd', 'operator-token')
    ).json()) as { params: { periodsPerYear: number } };
    expect(resolved.params.periodsPerYear).toBe(12);
    // The scorer's internal rebuild fingerprint stays internal.
    expect(resolved).not.toHaveProperty('paramsKey');
    const openapi = (await (await api('GET', '/api/openapi.json', 'operator-token')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(openapi.paths['/api/catalogue']).toHaveProperty(['put']);

    await logged(/periodsPerYear 1638 -> 12.*windows rebuilt by replay/, 'the API rebuild');
    await publish('fx-eurusd', 1, 60_000, 1);
    const fx = await latest('fx-eurusd');
    expect(fx.params?.periodsPerYear).toBe(12);
    expect(Object.keys(fx.windows ?? {})).toEqual(['30']);
    expect(fx.tags).toBeUndefined();

    // A restart rebuilds every window from the stream by replay, the extra ones too.
    await scorer.stop();
    scorer = await startService('scorer', scorerEnv);
    await publish('fx-eurusd', 1, 60_000, 1);
    const after = await latest('fx-eurusd', 'the first update after the restart');
    const r = sent.get('fx-eurusd')!;
    const monthly = { ...DEFAULT_METRICS_OPTIONS, periodsPerYear: 12 };
    expect(after.count).toBe(r.length);
    expect(after.windows?.['30']?.count).toBe(30);
    expect(
      metricDifferences(numeric(after.metrics), computeMetrics(r, undefined, monthly)),
    ).toEqual([]);
    expect(
      metricDifferences(
        numeric(after.windows!['30']!.metrics),
        computeMetrics(r.slice(-30), undefined, { ...monthly, window: 30 }),
      ),
    ).toEqual([]);

    const audit = ((await redis.xrange(keys.audit, '-', '+')) as RawEntry[])
      .map(([, f]) => decodeEntry(f, AuditEvent))
      .flatMap((d) => (d.ok ? [d.value] : []));
    expect(audit).toContainEqual(
      expect.objectContaining({
        kind: 'catalogue-changed',
        by: 'ann',
        version: 1,
        comment: 'monthly',
      }),
    );

    // Back to the file, fixed meanwhile: DELETE hands every service back to STRATEGIES_FILE.
    writeCatalogue("strategies:\n  'fx-*': { interval: 1d }\n");
    expect((await api('DELETE', '/api/catalogue', 'admin-token')).status).toBe(200);
    await logged(
      /periodsPerYear 12 -> 252.*windows rebuilt by replay/,
      'the rebuild back to the file',
    );
    await publish('fx-eurusd', 1, 60_000, 1);
    expect((await latest('fx-eurusd')).params?.periodsPerYear).toBe(252);
  });
});
