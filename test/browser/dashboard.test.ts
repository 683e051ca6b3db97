import { join } from 'node:path';
import {
  AlertEvent,
  allPartitions,
  decodeEntry,
  encodeEntry,
  GROUPS,
  keysFor,
  partitionOf,
  type RawEntry,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce } from '../helpers/build-once.js';
import { ARTIFACTS, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { waitDrained } from '../helpers/streams.js';
import {
  eventually,
  startPipeline,
  startService,
  type Pipeline,
  type RunningService,
} from '../helpers/services.js';

const DAY = 86_400_000;

/**
 * The dashboard in headless Chromium (Debian's /usr/bin/chromium) against
 * the whole pipeline as separate processes: live cards and charts, a
 * critical alert within a second of its sample, and a gateway outage the
 * page rides out without losing an alert. Screenshots go to test-artifacts/.
 */
describe('dashboard in a real browser', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let gateway: RunningService;
  let collector: RunningService;
  let browser: TestBrowser;
  let page: Page;
  let env: Record<string, string>;
  const prefix = uniquePrefix('web');
  const keys = keysFor(prefix);
  const pageErrors: string[] = [];
  /** The pipeline's partition count, as its first process stored it. */
  const partitions = async (): Promise<number> => Number(await redis.get(keys.partitionCount));

  beforeAll(async () => {
    await buildOnce('dashboard');
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    pipeline = await startPipeline(redisServer.url, prefix);
    ({ gateway, collector, env } = pipeline);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    // Keep what the page sends and receives on its WebSocket (resume checks).
    await page.addInitScript(() => {
      const w = window as unknown as { wsSent: string[]; wsResets: string[] };
      w.wsSent = [];
      w.wsResets = [];
      const watched = new WeakSet<WebSocket>();
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data) {
        if (typeof data === 'string') w.wsSent.push(data);
        if (!watched.has(this)) {
          watched.add(this);
          this.addEventListener('message', (e: MessageEvent<string>) => {
            if (e.data.includes('"type":"reset"')) w.wsResets.push(e.data);
          });
        }
        send.call(this, data);
      };
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource|WebSocket/.test(msg.text())) {
        pageErrors.push(msg.text());
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([gateway, ...(pipeline?.all.slice(1) ?? [])].map((s) => s?.stop()));
    redis?.disconnect();
    await redisServer?.dispose();
  });

  const post = async (samples: unknown[]): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(samples),
    });
    expect(res.status).toBe(202);
  };
  const samples = (strategy: string, n: number, ret: (i: number) => number, t0: number) =>
    Array.from({ length: n }, (_, i) => ({ strategy, ts: t0 + i * DAY, return: ret(i) }));
  const text = (sel: string) => page.locator(sel).first().innerText();
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

  it('loads, then cards and charts follow live samples', async () => {
    await page.goto(`http://127.0.0.1:${gateway.port}/#strategy`); // the strategy view (the overview is the landing view)
    await page.waitForSelector('#status[data-state="live"]');
    const t0 = Date.parse('2026-01-05T00:00:00Z');
    await post(samples('web-calm', 25, (i) => (i % 3 === 0 ? -0.004 : 0.006), t0));
    await page.waitForFunction(() =>
      document.querySelector('#score-meta')?.textContent?.includes('25 samples'),
    );
    expect(await text('#card-performance .word')).toMatch(/^(EXCELLENT|GOOD|NEEDS IMPROVEMENT)$/);
    expect(await text('#card-risk .word')).toMatch(/^(LOW|MODERATE|HIGH)$/);
    expect(await text('#card-stability .word')).toMatch(/^(STABLE|UNSTABLE)$/);
    expect(Number(await text('#card-performance .value'))).toBeGreaterThanOrEqual(0);
    const points = async (id: string) =>
      Number((await page.getAttribute(`#${id}`, 'data-points')) ?? 0);
    await page.waitForFunction(
      () => Number(document.querySelector('#chart-scores')?.getAttribute('data-points')) >= 1,
    );
    const before = await points('chart-scores');
    await post(samples('web-calm', 5, () => 0.003, t0 + 30 * DAY));
    await page.waitForFunction(
      (n) => Number(document.querySelector('#chart-scores')?.getAttribute('data-points')) > n,
      before,
    );
    expect(await points('chart-risk')).toBeGreaterThan(0);
    // System cards from the collector's real samples: a value or "not measured", never a guess.
    await page.waitForFunction(() => document.querySelectorAll('#system-cards .card').length >= 4);
    for (const id of ['sys-cpu', 'sys-memory', 'sys-apiResponseTime', 'sys-errorRate']) {
      const v = await text(`#${id} .value`);
      expect(v).toMatch(/^(not measured|\d+(\.\d+)? (%|s))$/);
    }
    expect(await text('#sys-cpu .value')).toMatch(/%$/);
    await page.waitForFunction(
      () => Number(document.querySelector('#chart-system')?.getAttribute('data-points')) >= 2,
    );
    expect(await page.locator('#chart-scores canvas').count()).toBe(1);
    await shot('dashboard-desktop-live.png');
  });

  it('shows a critical alert within 1 s of the sample that triggers it, with its recommendation', async () => {
    const swing = (i: number) => (i % 2 === 0 ? -0.25 : 0.12);
    /**
     * One timed trial: 19 samples (below the alerter's 20 observations,
     * nothing fires), scored, then the 20th, timed from its POST to the
     * critical alert on the page.
     */
    const trial = async (strategy: string, t0: number) => {
      await post(samples(strategy, 19, swing, t0));
      await page.waitForFunction(
        (s) =>
          [...document.querySelectorAll<HTMLOptionElement>('#strategy option')].some(
            (o) => o.value === s,
          ),
        strategy,
      );
      await eventually(
        async () =>
          (
            await redis.hget(
              keys.partition(partitionOf(strategy, await partitions())).latestScores,
              strategy,
            )
          )?.includes('"count":19')
            ? true
            : undefined,
        10_000,
        '19 scored samples',
      );
      await page.selectOption('#strategy', strategy);
      const sent = Date.now();
      await post([{ strategy, ts: t0 + 19 * DAY, return: swing(19) }]);
      const item = page
        .locator('#alerts-active li[data-level="critical"]', { hasText: 'var_exceeded' })
        .filter({
          has: page.locator('.subject', { hasText: new RegExp(`^strategy/${strategy}$`) }),
        });
      await item.waitFor({ timeout: 5000 });
      return { item, elapsed: Date.now() - sent };
    };
    // The second is a latency goal, and other test files share these two
    // cores: a trial over it is tried again on a fresh strategy, up to
    // three times. A pipeline slower than a second every time still fails.
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    const first = await trial('web-risky', t0);
    const item = first.item;
    const times = [first.elapsed];
    for (const again of ['web-jumpy', 'web-spiky']) {
      if (Math.min(...times) < 1000) break;
      times.push((await trial(again, t0)).elapsed);
    }
    const elapsed = Math.min(...times);
    expect(elapsed, `trials took ${times.join(', ')} ms`).toBeLessThan(1000);
    expect(await item.locator('.rec').innerText()).toMatch(/^Recommendation: \S/);
    expect(await text('#card-alerts .value')).not.toBe('0');
    // Acknowledge: done, or an honest error while the route is not there.
    // Pressed, held while live frames re-render the view, then released, as
    // a hand does: an item rebuilt between press and release swallows the
    // click. Another strategy's samples bring the frames.
    const box = await item.locator('button.ack').boundingBox();
    if (!box) throw new Error('the Acknowledge button has no box');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.evaluate(() => {
      const w = window as unknown as { renders: number };
      w.renders = 0;
      new MutationObserver(() => w.renders++).observe(document.getElementById('alerts-history')!, {
        childList: true,
      });
    });
    await page.mouse.down();
    await post(samples('web-bystander', 2, () => 0.001, t0));
    await page.waitForFunction(() => (window as unknown as { renders: number }).renders >= 1);
    await page.mouse.up();
    await item.locator('.ack-error, button.ack:text-is("Acknowledged")').first().waitFor();
    await shot('dashboard-desktop-alert.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    // Phone: nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow).toBeLessThanOrEqual(390);
    await shot('dashboard-phone.png');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone-top.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    console.log(`critical alert shown ${times.join(', ')} ms after its sample was posted`);
  });

  it('badges a flapping incident, shows silenced ones apart and who acknowledged or silenced what', async () => {
    // A silence through the REST API, then an incident it matches through the real pipeline.
    const base = `http://127.0.0.1:${gateway.port}`;
    const created = await fetch(`${base}/api/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'subject', value: 'strategy/web-silenced' }],
        durationMs: 3_600_000,
        createdBy: 'carol',
        comment: 'desk maintenance',
      }),
    });
    expect(created.status).toBe(201);
    const silenceId = ((await created.json()) as { id: string }).id;
    // The incident comes after the silence is in force: once the alerter of
    // the subject's partition has read the command that announces it (else
    // a loaded machine can score the samples first, and the incident fires
    // unsilenced, as it would in production a moment before the silence).
    const silencedPart = partitionOf('web-silenced', await partitions());
    await waitDrained(redis, keys.alertCommands, GROUPS.alerterCommands(silencedPart));
    const t0 = Date.parse('2026-04-06T00:00:00Z');
    await post(samples('web-silenced', 20, (i) => (i % 2 === 0 ? -0.25 : 0.12), t0));
    // A flapping incident, written as the alerter writes its events.
    const now = Date.now();
    const flapping: AlertEvent = {
      incidentId: 'web-flap-sharpe',
      rule: 'sharpe_decline',
      level: 'warning',
      subject: 'strategy/web-flap',
      state: 'firing',
      value: 0.31,
      threshold: 0.5,
      metric: 'sharpeRatio',
      message: 'Sharpe ratio 0.31 below 0.5',
      recommendation: 'Review the strategy',
      startsAt: now,
      endsAt: null,
      ts: now,
      flapping: true,
    };
    const alerts = keys.partition(partitionOf('web-flap', await partitions())).alerts;
    await redis.xadd(alerts, '*', ...encodeEntry(AlertEvent.parse(flapping)));

    const flap = page.locator('#alerts-active li[data-incident="web-flap-sharpe"]');
    await flap.locator('.badge.flapping').waitFor({ timeout: 5000 });
    const muted = page.locator('#alerts-muted li', { hasText: 'web-silenced' });
    await muted.first().waitFor({ timeout: 15_000 });
    expect(await muted.first().locator('.why').innerText()).toContain(`silenced by ${silenceId}`);
    expect(await page.locator('#alerts-active li', { hasText: 'web-silenced' }).count()).toBe(0);
    expect(await page.isVisible('#muted-group')).toBe(true);
    // Muted incidents are not counted as active.
    const shown = await page.locator('#alerts-active li:not(.empty)').count();
    await page.waitForFunction(
      (n) => document.querySelector('#card-alerts .value')?.textContent === String(n),
      shown,
    );
    // History: the acknowledgement of the previous test (who, token) and the silence (who, what).
    const created_ = page.locator('#alerts-history li.silence-created', { hasText: silenceId });
    await created_.waitFor({ timeout: 10_000 });
    expect(await created_.innerText()).toMatch(/created by anonymous \(for carol\)/);
    const ack = page.locator('#alerts-history li.ack-line', {
      hasText: 'var_exceeded on strategy/web-risky',
    });
    await ack.first().waitFor({ timeout: 10_000 });
    expect(await ack.first().innerText()).toContain('acknowledged by dashboard');
    expect(
      await page.locator('#alerts-history li.flapping, #alerts-history .badge.flapping').count(),
    ).toBeGreaterThan(0);
    await shot('dashboard-desktop-muted.png');

    // Unsilence: its audit line follows, newest first above the creation.
    const del = await fetch(`${base}/api/silences/${silenceId}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await page
      .locator('#alerts-history li.silence-deleted', { hasText: silenceId })
      .waitFor({ timeout: 10_000 });
    const order = await page.$$eval('#alerts-history li', (lis) => lis.map((li) => li.className));
    expect(order.indexOf('audit silence-deleted')).toBeLessThan(
      order.indexOf('audit silence-created'),
    );

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await shot('dashboard-phone-muted.png');
    await page
      .locator('.alerts-panel')
      .screenshot({ path: join(ARTIFACTS, 'dashboard-phone-alerts-panel.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows reconnecting while the gateway is down and recovers with no alert lost', async () => {
    const port = gateway.port;
    await gateway.kill();
    await page.waitForSelector('#status[data-state="reconnecting"]', { timeout: 10_000 });
    await shot('dashboard-reconnecting.png');
    // An incident opens while no gateway is running.
    const t0 = Date.parse('2026-05-04T00:00:00Z');
    await post(samples('web-outage', 20, (i) => (i % 2 === 0 ? -0.25 : 0.12), t0));
    const missed = await eventually(
      async () => {
        const raw: RawEntry[] = [];
        for (const p of allPartitions(await partitions())) {
          raw.push(...((await redis.xrange(keys.partition(p).alerts, '-', '+')) as RawEntry[]));
        }
        for (const [pos, fields] of raw) {
          const d = decodeEntry(fields, AlertEvent);
          if (
            d.ok &&
            d.value.subject === 'strategy/web-outage' &&
            d.value.rule === 'var_exceeded'
          ) {
            return { pos, incidentId: d.value.incidentId };
          }
        }
        return undefined;
      },
      15_000,
      'the alert written during the outage',
    );
    gateway = await startService('gateway', env, port);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 30_000 });
    // It is in the active list and, replayed from the stream, in the history.
    await page.waitForSelector(`#alerts-active li[data-incident="${missed.incidentId}"]`);
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#alerts-history li')].some((li) =>
          li.textContent?.includes('web-outage'),
        ),
      undefined,
      { timeout: 5000 },
    );
    await shot('dashboard-recovered.png');
    // It resumed with one position per partition of each stream, and nothing was reset.
    const ws = await page.evaluate(() => {
      const w = window as unknown as { wsSent: string[]; wsResets: string[] };
      return { wsSent: w.wsSent, wsResets: w.wsResets };
    });
    const subscribes = ws.wsSent
      .map((m) => JSON.parse(m) as { type: string; since?: Record<string, unknown> })
      .filter((m) => m.type === 'subscribe');
    const resume = subscribes.at(-1)?.since;
    const P = await partitions();
    for (const stream of ['scores', 'system', 'alerts']) {
      expect(Object.keys((resume?.[stream] ?? {}) as object)).toHaveLength(P);
    }
    expect(ws.wsResets).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('takes a gateway that stops answering (SIGSTOP) for a lost link, and is live again once it answers', async () => {
    const pid = gateway.proc.pid;
    if (pid === undefined) throw new Error('the gateway has no pid');
    await page.waitForSelector('#status[data-state="live"]');
    process.kill(pid, 'SIGSTOP');
    try {
      // Its socket stays open: only the page's own ping can tell (5 s quiet, 5 s unanswered).
      await page.waitForSelector('#status[data-state="reconnecting"]', { timeout: 20_000 });
      expect(await text('#status')).toContain('no answer from the gateway in 10 s');
      // The audit poll's request goes unanswered too, and the page says which.
      await page
        .locator('#notice', { hasText: 'GET /api/alerts: no answer in 10 s' })
        .waitFor({ timeout: 20_000 });
      await shot('dashboard-gateway-silent.png');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await page.waitForSelector('#status[data-state="live"]', { timeout: 30_000 });
    // The poll answered again: its notice goes.
    await page.waitForFunction(
      () => document.getElementById('notice')?.textContent === '',
      undefined,
      {
        timeout: 15_000,
      },
    );
  });

  it('paces its live frames on a wallboard (?pace=) and still follows every sample', async () => {
    const t0 = Date.parse('2026-06-01T00:00:00Z');
    const batch = (k: number) => samples('web-paced', 7, () => 0.002, t0 + k * 7 * DAY);
    await post(batch(0)); // the strategy exists before the page opens on it
    await page.goto(`http://127.0.0.1:${gateway.port}/?pace=400#strategy/web-paced`);
    await page.waitForSelector('#status[data-state="live"]');
    const sent = await page.evaluate(() => (window as unknown as { wsSent: string[] }).wsSent);
    const subscribe = sent
      .map((m) => JSON.parse(m) as { type: string; intervalMs?: number })
      .find((m) => m.type === 'subscribe');
    expect(subscribe?.intervalMs).toBe(400);
    // Posts in quick succession: the page ends on the latest state all the same.
    for (let k = 1; k < 6; k++) await post(batch(k));
    await page.waitForFunction(() => {
      const meta = document.querySelector('#score-meta')?.textContent ?? '';
      return meta.includes('web-paced') && meta.includes('42 samples');
    });
    await shot('dashboard-paced.png');
    expect(pageErrors).toEqual([]);
  });
});
