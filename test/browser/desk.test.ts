import { join } from 'node:path';
import { keysFor, supervisorRestartField } from '@quantmon/shared';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartRecord } from '../../scripts/supervisor-restarts.js';
import { buildOnce } from '../helpers/build-once.js';
import { ARTIFACTS, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startPipeline, startService, type Pipeline } from '../helpers/services.js';
import { deskScore, writeScores } from './desk-feed.js';

const DAY = 86_400_000;
const STRATEGIES = 600;
const DOWN_AFTER_MS = 3000;
const TOKENS = 'vic:viewer:viewer-tok,olga:operator:op-tok,adam:admin:admin-tok';

/**
 * The trading desk's dashboard (issue 13) in Debian's Chromium against the
 * four services: the strategies overview with many strategies (virtualised,
 * sorts, filters, updates), roles (a viewer sees no Acknowledge and gets
 * 403 from the API; an operator acknowledges and silences from the page),
 * the incident view with its emergency job, and the pipeline health panel
 * showing a SIGKILLed scorer down and back up after a restart, with the
 * restart npm start's supervisor records.
 * Screenshots (desktop and phone) in test-artifacts/desk-*.png.
 */
describe('desk dashboard in a real browser', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let browser: TestBrowser;
  let base: string;
  const prefix = uniquePrefix('desk');
  const keys = keysFor(prefix);
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await buildOnce('dashboard');
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    pipeline = await startPipeline(redisServer.url, prefix, {
      GATEWAY_TOKENS: TOKENS,
      GATEWAY_SERVICE_DOWN_MS: String(DOWN_AFTER_MS),
    });
    base = `http://127.0.0.1:${pipeline.gateway.port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
    expect(pageErrors).toEqual([]);
  });

  const open = async (token: string, hash: string): Promise<Page> => {
    const page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${base}/?token=${token}${hash}`);
    await page.waitForSelector('#status[data-state="live"]');
    await page.waitForFunction(() => document.body.dataset['role'] !== '');
    return page;
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, name), fullPage: false });
  const partitions = async () => Number(await redis.get(keys.partitionCount));
  const cellTexts = (page: Page, col: string) =>
    page.$$eval(`#ov-scroll .ov-row:not([hidden]) .ov-${col}`, (cells) =>
      cells
        .map((c) => ({
          y: parseFloat((c.parentElement as HTMLElement).style.top),
          t: c.textContent ?? '',
        }))
        .sort((a, b) => a.y - b.y)
        .map((c) => c.t),
    );

  /** A real critical incident: 25 swinging daily returns push VaR beyond 0.15. */
  const criticalIncident = async (strategy: string): Promise<string> => {
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    const res = await pipeline.post(
      Array.from({ length: 25 }, (_, i) => ({
        strategy,
        ts: t0 + i * DAY,
        return: i % 2 === 0 ? -0.25 : 0.12,
      })),
    );
    expect(res.status).toBe(202);
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${base}/api/alerts?state=firing`, {
        headers: { authorization: 'Bearer viewer-tok' },
      });
      const body = (await r.json()) as {
        active: { incidentId: string; subject: string; rule: string }[];
      };
      const hit = body.active.find(
        (a) => a.subject === `strategy/${strategy}` && a.rule === 'var_exceeded',
      );
      if (hit) return hit.incidentId;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no var_exceeded incident for ${strategy}`);
  };

  it('lists every strategy in a virtualised overview that sorts, filters and updates live', async () => {
    const P = await partitions();
    await writeScores(
      redis,
      keys,
      P,
      Array.from({ length: STRATEGIES }, (_, i) => deskScore(i, 0)),
    );
    const page = await open('op-tok', '');
    await page.waitForFunction(
      (n) => document.querySelector('#ov-count')?.textContent?.startsWith(`${n} of ${n}`),
      STRATEGIES,
    );
    // Only the rows in view exist: far fewer than the strategies.
    const rows = await page.locator('#ov-scroll .ov-row').count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(80);
    // Default sort: risk, highest first.
    const risks = (await cellTexts(page, 'risk')).map(Number);
    expect(risks.length).toBeGreaterThan(5);
    expect([...risks].sort((a, b) => b - a)).toEqual(risks);
    await shot(page, 'desk-overview-desktop.png');
    // Sort by strategy: ascending ids.
    await page.click('.ov-head button[data-key="strategy"]');
    await page.waitForFunction(
      () =>
        document
          .querySelector('.ov-head button[data-key="strategy"]')
          ?.getAttribute('data-sort') === 'asc',
    );
    const ids = await cellTexts(page, 'strategy');
    expect(ids[0]).toBe('desk-0000');
    expect([...ids].sort()).toEqual(ids);
    // Sharpe descending.
    await page.click('.ov-head button[data-key="sharpe"]');
    await page.waitForFunction(
      () =>
        document.querySelector('.ov-head button[data-key="sharpe"]')?.getAttribute('data-sort') ===
        'desc',
    );
    const sharpe = (await cellTexts(page, 'sharpe')).map(Number);
    expect([...sharpe].sort((a, b) => b - a)).toEqual(sharpe);
    // Filter by text.
    await page.fill('#ov-filter', 'desk-001');
    await page.waitForFunction(() =>
      document.querySelector('#ov-count')?.textContent?.startsWith('10 of'),
    );
    expect((await cellTexts(page, 'strategy')).every((id) => id.startsWith('desk-001'))).toBe(true);
    // Filter by status: risk HIGH only.
    await page.fill('#ov-filter', '');
    await page.selectOption('#ov-status', 'high-risk');
    await page.waitForFunction(
      (n) => !document.querySelector('#ov-count')?.textContent?.startsWith(`${n} of`),
      STRATEGIES,
    );
    const tones = await page.$$eval('#ov-scroll .ov-row .ov-risk', (c) =>
      c.map((x) => (x as HTMLElement).dataset['tone']),
    );
    expect(tones.length).toBeGreaterThan(0);
    expect(tones.every((t) => t === 'bad')).toBe(true);
    await page.selectOption('#ov-status', 'all');
    await page.click('.ov-head button[data-key="strategy"]'); // from Sharpe to strategy: ascending
    await page.waitForFunction(
      () =>
        document
          .querySelector('.ov-head button[data-key="strategy"]')
          ?.getAttribute('data-sort') === 'asc',
    );
    // Live: a new update for desk-0000 changes its row within the page's next paints.
    const before = await page
      .locator('#ov-scroll .ov-row[data-strategy="desk-0000"] .ov-samples')
      .innerText();
    const next = deskScore(0, 50);
    await writeScores(redis, keys, P, [next]);
    await page.waitForFunction(
      (b) =>
        document.querySelector('#ov-scroll .ov-row[data-strategy="desk-0000"] .ov-samples')
          ?.textContent !== b,
      before,
    );
    expect(
      await page.locator('#ov-scroll .ov-row[data-strategy="desk-0000"] .ov-samples').innerText(),
    ).toBe(String(next.count));
    // Scrolling to the end paints the last rows from the same pool.
    await page.locator('#ov-scroll').evaluate((e) => (e.scrollTop = e.scrollHeight));
    await page.waitForSelector('#ov-scroll .ov-row[data-strategy="desk-0599"]');
    // Clicking a row opens today's strategy view for it.
    await page.locator('#ov-scroll').evaluate((e) => (e.scrollTop = 0));
    await page.click('#ov-scroll .ov-row[data-strategy="desk-0003"]');
    await page.waitForFunction(() => location.hash === '#strategy/desk-0003');
    await page.waitForFunction(() =>
      document.querySelector('#score-meta')?.textContent?.startsWith('desk-0003'),
    );
    expect(await page.isVisible('#view-strategy')).toBe(true);
    // A past range (issue 12, item 5): bucketed history, frozen, with export and report links.
    await page.selectOption('#range', '1d');
    await page.waitForFunction(() =>
      /\d+ points? \(frozen/.test(document.querySelector('#range-note')?.textContent ?? ''),
    );
    expect(await page.getAttribute('#range-export', 'href')).toMatch(
      /^\/api\/export\?kind=strategy&id=desk-0003&format=csv&from=.+&to=.+&token=op-tok$/,
    );
    expect(await page.getAttribute('#range-report', 'href')).toContain(
      '/api/report?strategy=desk-0003',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'desk-strategy-range.png') });
    await page.selectOption('#range', 'live');
    // Phone: one column, nothing wider than the screen but the table's own scroller.
    await page.goto(`${base}/#overview`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForSelector('#ov-scroll .ov-row');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await shot(page, 'desk-overview-phone.png');
    await page.close();
  });

  it('filters the overview by tag and groups it by desk, each desk under its header', async () => {
    // Its own round of updates (each strategy's tags: four desks, three managers), so it runs alone too.
    const P = await partitions();
    await writeScores(
      redis,
      keys,
      P,
      Array.from({ length: STRATEGIES }, (_, i) => deskScore(i, 1)),
    );
    const page = await open('viewer-tok', '');
    await page.waitForFunction(
      (n) => document.querySelector('#ov-count')?.textContent?.startsWith(`${n} of ${n}`),
      STRATEGIES,
    );
    // The tag column, and a tag condition in the filter: one desk of four.
    const shown = await cellTexts(page, 'tags');
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.every((t) => /^desk=\w+ · manager=\w+$/.test(t))).toBe(true);
    await page.fill('#ov-filter', 'desk=rates');
    await page.waitForFunction(
      (n) => document.querySelector('#ov-count')?.textContent?.startsWith(`${n / 4} of`),
      STRATEGIES,
    );
    expect((await cellTexts(page, 'tags')).every((t) => t.startsWith('desk=rates'))).toBe(true);
    await page.fill('#ov-filter', 'desk=fx manager=lee');
    await page.waitForFunction(() =>
      document.querySelector('#ov-count')?.textContent?.startsWith('50 of'),
    );
    // Group by desk: the choices come from the tags the strategies carry.
    await page.fill('#ov-filter', '');
    await page.selectOption('#ov-group', 'desk');
    await page.waitForSelector('#ov-scroll .ov-row[data-kind="group"][data-group="credit"]');
    const first = page.locator('#ov-scroll .ov-row[data-kind="group"]').first();
    expect(await first.innerText()).toMatch(/^desk credit · 150 strategies( · \d+ alerting)?$/);
    await shot(page, 'desk-overview-by-desk.png');
    // Scrolled to the end: the last group is rates (groups in value order): its rows only.
    await page.locator('#ov-scroll').evaluate((e) => (e.scrollTop = e.scrollHeight));
    // Barrier: rows painted at the scrolled-to position.
    await page.waitForFunction(() => {
      const sc = document.querySelector('#ov-scroll') as HTMLElement;
      return (
        sc.scrollTop > 0 &&
        [...sc.querySelectorAll<HTMLElement>('.ov-row')].some(
          (r) => parseFloat(r.style.top) >= sc.scrollTop,
        )
      );
    });
    const tail = (await cellTexts(page, 'tags')).filter((t) => t !== '');
    expect(tail.length).toBeGreaterThan(3);
    expect(tail.every((t) => t.startsWith('desk=rates'))).toBe(true);
    await page.close();
  });

  it('hides Acknowledge from a viewer and the gateway refuses it with 403', async () => {
    const incidentId = await criticalIncident('desk-viewer');
    const page = await open('viewer-tok', `#incident/${incidentId}`);
    await page.waitForSelector('#incident-timeline li[data-kind="firing"]');
    expect(await page.locator('#incident-detail button.ack').count()).toBe(0);
    expect(await page.isVisible('#silence-form')).toBe(false);
    expect(await page.isVisible('#nav a[data-view="rules"]')).toBe(false);
    expect(await page.innerText('#whoami')).toBe('vic · viewer');
    await page.goto(`${base}/#strategy/desk-viewer`);
    await page.waitForSelector('#alerts-active li[data-level="critical"]');
    expect(await page.locator('#alerts-active button.ack').count()).toBe(0);
    await shot(page, 'desk-viewer-strategy.png');
    const res = await fetch(`${base}/api/alerts/${incidentId}/ack`, {
      method: 'POST',
      headers: { authorization: 'Bearer viewer-tok', 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'vic' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { required: string }).required).toBe('operator');
    const silence = await fetch(`${base}/api/silences`, {
      method: 'POST',
      headers: { authorization: 'Bearer viewer-tok', 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'rule', value: 'x' }],
        durationMs: 60_000,
        createdBy: 'vic',
      }),
    });
    expect(silence.status).toBe(403);
    await page.close();
  });

  it('lets an operator acknowledge and silence from the incident view, with who and when', async () => {
    const incidentId = await criticalIncident('desk-operator');
    const page = await open('op-tok', `#incident/${incidentId}`);
    await page.waitForSelector('#incident-timeline li[data-kind="firing"]');
    // var_exceeded queues a risk-reduction job: no worker here, so it waits.
    await page.waitForSelector('#incident-job[data-state="waiting"]');
    await page.click('#incident-detail button.ack');
    await page.waitForSelector('#incident-timeline li[data-kind="acknowledged"]', {
      timeout: 15_000,
    });
    expect(await page.innerText('#incident-timeline li[data-kind="acknowledged"]')).toContain(
      'olga',
    );
    await page.click('#incident-detail button.silence-this');
    expect(await page.inputValue('#silence-form input[name="matchers"]')).toBe(
      'rule=var_exceeded, subject=strategy/desk-operator',
    );
    await page.fill('#silence-form input[name="minutes"]', '30');
    await page.fill('#silence-form input[name="comment"]', 'desk test: hedged by hand');
    await page.click('#silence-form button[type="submit"]');
    const item = page.locator('#silence-list li[data-status="active"]', {
      hasText: 'desk-operator',
    });
    await item.waitFor();
    expect(await item.innerText()).toContain('olga');
    await page.waitForSelector('#incident-timeline li[data-kind="silenced"]', { timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'desk-incident-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'desk-incident-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    // Expire it from the page.
    await item.locator('button.expire').click();
    await page
      .locator('#silence-list li[data-status="expired"]', { hasText: 'desk-operator' })
      .waitFor();
    const audit = (await (
      await fetch(`${base}/api/alerts?limit=50`, { headers: { authorization: 'Bearer op-tok' } })
    ).json()) as { audit: { kind: string; by: string }[] };
    const kinds = audit.audit.filter((a) => a.by === 'olga').map((a) => a.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['acknowledged', 'silence-created', 'silence-deleted']),
    );
    await page.close();
  });

  it('says so when the gateway takes a request and never answers, and its polls go on', async () => {
    const incidentId = await criticalIncident('desk-unanswered');
    const page = await open('op-tok', `#incident/${incidentId}`);
    await page.waitForSelector('#incident-timeline li[data-kind="firing"]');
    // An acknowledgement taken and never answered: an error, and the button back.
    await page.route('**/api/alerts/*/ack', () => undefined);
    await page.click('#incident-detail button.ack');
    const ackError = page.locator('#incident-detail .ack-error', { hasText: 'no answer' });
    await ackError.waitFor({ timeout: 20_000 });
    expect(await ackError.innerText()).toMatch(
      /^acknowledge failed: POST \/api\/alerts\/[^/]+\/ack: no answer in 10 s$/,
    );
    expect(await page.isEnabled('#incident-detail button.ack')).toBe(true);
    await page.unroute('**/api/alerts/*/ack');
    // The incident's poll unanswered: it says so, and shows the incident again once answered.
    await page.route('**/api/incidents/*', () => undefined);
    await page
      .locator('#incident-detail .ack-error', { hasText: 'GET /api/incidents/' })
      .waitFor({ timeout: 20_000 });
    await page.unroute('**/api/incidents/*');
    await page.waitForSelector('#incident-timeline li[data-kind="firing"]', { timeout: 10_000 });
    await page.close();
  });

  it('shows a SIGKILLed scorer as down within the configured time and up after a restart', async () => {
    const page = await open('viewer-tok', '#pipeline');
    for (const s of ['collector', 'scorer', 'alerter', 'gateway']) {
      await page.waitForSelector(`.svc[data-service="${s}"][data-status="up"]`);
    }
    expect(await page.locator('#lag-table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.innerText('[data-stat="Emergency waiting"] .value')).toMatch(/^\d+$/);
    await shot(page, 'desk-pipeline-desktop.png');
    // Started as compose starts it (no npm start): no restart shown.
    expect(await page.getAttribute('.svc[data-service="scorer"]', 'data-restarts')).toBe('0');
    expect(await page.locator('.svc .badge.restarts, .svc .last-restart').count()).toBe(0);
    const killedAt = Date.now();
    await pipeline.scorer.kill();
    await page.waitForSelector('.svc[data-service="scorer"][data-status="down"]', {
      timeout: 20_000,
    });
    const seenDownAfter = Date.now() - killedAt;
    // Down is the configured silence (GATEWAY_SERVICE_DOWN_MS) plus at most one beat and one
    // poll of the page; measured and printed, not asserted (a shared machine's timing varies).
    await shot(page, 'desk-pipeline-down.png');
    const scorer = await startService('scorer', pipeline.env);
    pipeline.all[pipeline.all.indexOf(pipeline.scorer)] = scorer;
    pipeline.scorer = scorer;
    await page.waitForSelector('.svc[data-service="scorer"][data-status="up"]', {
      timeout: 20_000,
    });
    // Here the test restarted it; under npm start the supervisor does, and records it so.
    const record = restartRecord(
      {
        child: 'scorer',
        file: 'services/scorer/src/main.ts',
        code: null,
        signal: 'SIGKILL',
        how: 'killed by SIGKILL',
        restarts: 1,
        at: killedAt,
      },
      'desk-host',
      killedAt - 60_000,
    );
    await redis.hset(
      keys.supervisorRestarts,
      supervisorRestartField('desk-host', 'scorer'),
      JSON.stringify(record),
    );
    const restarted = '.svc[data-service="scorer"][data-restarts="1"]';
    await page.waitForSelector(`${restarted} .last-restart`, { timeout: 20_000 });
    expect(await page.innerText(`${restarted} .badge.restarts`)).toMatch(/^1 restart$/i);
    expect(await page.innerText(`${restarted} .last-restart`)).toMatch(
      /^last restart: scorer killed by SIGKILL \d+ s ago on desk-host$/,
    );
    expect(await page.getAttribute('.svc[data-service="alerter"]', 'data-restarts')).toBe('0');
    await shot(page, 'desk-pipeline-restart.png');
    // The killed replica stays listed as down beside the new one.
    expect(
      await page.locator('.svc[data-service="scorer"] li[data-status="down"]').count(),
    ).toBeGreaterThanOrEqual(1);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'desk-pipeline-phone.png'), fullPage: true });
    console.log(`scorer shown down ${seenDownAfter} ms after SIGKILL`);
    await page.close();
  });
});
