import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningService } from '../helpers/services.js';
import {
  alertsFixture,
  metric,
  pushScore,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';
import { WebhookReceiver, type Received } from './alerts-webhook-receiver.js';

const SECRET = 'test-secret';

/** The built-in webhook notifier: retries, timeout, HMAC signature, JSON and Slack formats. */
describe('webhook notifier', () => {
  let f: AlertsFixture;
  const running: RunningService[] = [];
  const hooks: WebhookReceiver[] = [];
  let dir: string | undefined;

  beforeAll(async () => {
    f = await alertsFixture('hook');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-hook-'));
    // The resolved notification comes from one calm sample: no keepFiringFor (default 2 minutes).
    f.env['RULES_FILE'] = join(dir, 'rules.json');
    writeFileSync(
      f.env['RULES_FILE'],
      JSON.stringify({ rules: { var_exceeded: { keepFiringFor: 0 } } }),
    );
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    const codes = await Promise.all(running.map((s) => s.stop()));
    await Promise.all(hooks.map((h) => h.close()));
    f?.redis.disconnect();
    await f?.server.dispose();
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  const verify = (r: Received): boolean => {
    const ts = String(r.headers['x-quantmon-timestamp']);
    const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${r.body}`).digest('hex')}`;
    return r.headers['x-quantmon-signature'] === want;
  };

  it('delivers signed firing and resolved notifications, retrying a failed first attempt and a timeout', async () => {
    // One receiver fails every first attempt with 500, the other never answers its first attempt.
    const failing = await WebhookReceiver.start((n) => (n === 1 ? 500 : 200));
    const hanging = await WebhookReceiver.start((n) => (n === 1 ? 'hang' : 200));
    hooks.push(failing, hanging);
    const alerter = await startAlerter(f, {
      WEBHOOK_URLS: `${failing.url},${hanging.url}`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_TIMEOUT_MS: '300',
      WEBHOOK_BACKOFF_MS: '50',
    });
    running.push(alerter);
    await pushScore(f, 'hooked', { valueAtRisk: -0.3 });
    const firing = await waitEvent(f, (e) => e.subject === 'strategy/hooked', 'firing');
    await pushScore(f, 'hooked', { valueAtRisk: -0.01 });
    await waitEvent(
      f,
      (e) => e.subject === 'strategy/hooked' && e.state === 'resolved',
      'resolved',
    );

    for (const h of [failing, hanging]) {
      const got = await eventually(
        () => (h.ok.length >= 2 ? h.ok : undefined),
        15_000,
        'firing and resolved deliveries',
      );
      const bodies = got.map(
        (r) => r.json as { status: string; alerts: { fingerprint: string }[] },
      );
      expect(bodies.map((b) => b.status).sort()).toEqual(['firing', 'resolved']);
      expect(bodies.every((b) => b.alerts[0]?.fingerprint === firing.incidentId)).toBe(true);
      expect(got.every(verify)).toBe(true);
      // Each delivery took two attempts.
      expect([...h.attempts.values()]).toEqual([2, 2]);
    }
    await eventually(
      async () =>
        (await metric(alerter, 'quantmon_notifications_total', 'outcome="delivered"')) >= 1
          ? true
          : undefined,
      5000,
      'delivered counted',
    );
    expect(await alerter.stop()).toBe(0);
    running.splice(running.indexOf(alerter), 1);
  });

  it('sends a Slack-compatible message when WEBHOOK_FORMAT=slack', async () => {
    const g = await alertsFixture('hook-slack', { server: f.server });
    const slack = await WebhookReceiver.start();
    hooks.push(slack);
    const alerter = await startAlerter(g, { WEBHOOK_URL: slack.url, WEBHOOK_FORMAT: 'slack' });
    running.push(alerter);
    await pushScore(g, 'chatty', { valueAtRisk: -0.3 });
    const got = await eventually(() => slack.ok[0], 10_000, 'slack message');
    const body = got.json as { text: string; attachments: { color: string; text: string }[] };
    expect(body.text).toMatch(/^\[FIRING\] CRITICAL var_exceeded on strategy\/chatty/);
    expect(body.attachments[0]?.color).toBe('#d62728');
    expect(body.attachments[0]?.text).toMatch(/risk-reduction/);
    expect(got.headers['x-quantmon-signature']).toBeUndefined();
    g.redis.disconnect();
  });
});
