import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromMetricValue, keysFor, readJsonHash, ScoreUpdate } from '@quantmon/shared';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce } from '../helpers/build-once.js';
import { ARTIFACTS, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startPipeline, type Pipeline } from '../helpers/services.js';

const DAY = 86_400_000;

/**
 * The strategy catalogue as a user sees it in the dashboard (headless
 * Chromium against the whole pipeline): the strategy view's heading names
 * the periods a year and tags, the metrics table has a column per window,
 * beta is measured against the catalogue's benchmark (filled at ingest),
 * and each derived metric is a row with the value the scorer computed.
 */
describe('catalogue in the strategy view', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let browser: TestBrowser;
  let page: Page;
  let dir: string;
  const prefix = uniquePrefix('web-cat');
  const pk = keysFor(prefix).partition(0);
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await buildOnce('dashboard');
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    dir = mkdtempSync(join(tmpdir(), 'quantmon-web-cat-'));
    const strategies = join(dir, 'strategies.yaml');
    writeFileSync(
      strategies,
      `
strategies:
  'eq-*':
    interval: 1d
    benchmark: spx
    windows: [20]
    tags: { desk: equities, manager: bo }
derived:
  - name: lossPct
    expression: -currentDrawdown * 100
`,
    );
    pipeline = await startPipeline(redisServer.url, prefix, {
      PARTITIONS: '1',
      STRATEGIES_FILE: strategies,
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    const codes = await pipeline?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0, 0, 0]);
  });

  it('shows windows, the benchmark beta and derived metrics of a catalogue strategy', async () => {
    const t0 = Date.parse('2026-01-05T00:00:00Z');
    const n = 40;
    const spx = (i: number) => Math.sin(i * 0.5) * 0.01;
    const body = [
      ...Array.from({ length: n }, (_, i) => ({
        strategy: 'spx',
        ts: t0 + i * DAY,
        return: spx(i),
      })),
      // No benchmarkReturn: the collector takes spx's, period by period.
      ...Array.from({ length: n }, (_, i) => ({
        strategy: 'eq-a',
        ts: t0 + i * DAY,
        return: 1.5 * spx(i) + (i % 4 === 0 ? -0.002 : 0.001),
        id: `eq-a-${i}`,
      })),
    ];
    expect((await pipeline.post(body)).status).toBe(202);
    const update = await eventually(
      async () => {
        const u = (await readJsonHash(redis, pk.latestScores, ScoreUpdate)).get('eq-a');
        return u?.id === `eq-a-${n - 1}` ? u : undefined;
      },
      30_000,
      "eq-a's update through its last sample",
    );

    await page.goto(`http://127.0.0.1:${pipeline.gateway.port}/#strategy`);
    await page.waitForSelector('#status[data-state="live"]');
    await page.waitForSelector('#strategy option[value="eq-a"]', { state: 'attached' });
    await page.selectOption('#strategy', 'eq-a');
    await page.waitForFunction(() =>
      document.querySelector('#score-meta')?.textContent?.includes('40 samples'),
    );
    const meta = await page.locator('#score-meta').innerText();
    expect(meta).toContain('252 periods a year');
    expect(meta).toContain('desk=equities');
    expect(meta).toContain('manager=bo');

    const heads = await page.locator('#metrics thead th').allInnerTexts();
    expect(heads.map((h) => h.trim())).toEqual(['', 'main (40)', '20 (20)']);
    const row = (label: string) =>
      page.locator('#metrics tbody tr', {
        has: page.locator(`td:first-child:text-is("${label}")`),
      });
    // Beta against spx, in both windows: measured (about 1.5), not the "–" of no benchmark.
    const beta = await row('Beta').locator('td').allInnerTexts();
    expect(beta.slice(1).map(Number)).toEqual([
      Number(fromMetricValue(update.metrics.beta)!.toFixed(2)),
      Number(fromMetricValue(update.windows!['20']!.metrics.beta)!.toFixed(2)),
    ]);
    expect(Number(beta[1])).toBeGreaterThan(1.3);
    expect(Number(beta[1])).toBeLessThan(1.7);
    // The derived metric: one row spanning the windows, the scorer's value.
    const derived = page.locator('#metrics tbody tr.derived');
    expect(await derived.locator('td').first().innerText()).toBe('lossPct');
    expect(await derived.locator('td').nth(1).innerText()).toBe(
      fromMetricValue(update.derived!['lossPct']!)!.toFixed(2),
    );
    expect(update.derived!['lossPct']).toBeCloseTo(
      -fromMetricValue(update.metrics.currentDrawdown)! * 100,
      9,
    );
    await page.locator('#metrics').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: join(ARTIFACTS, 'dashboard-catalogue-strategy.png'),
      fullPage: true,
    });
    expect(pageErrors).toEqual([]);
  });
});
