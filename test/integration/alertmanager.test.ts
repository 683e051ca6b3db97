import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertmanagerUnavailable,
  startAlertmanager,
  type GettableAlert,
  type TestAlertmanager,
} from '../helpers/alertmanager.js';
import { eventually, type RunningService } from '../helpers/services.js';
import {
  alertsFixture,
  metric,
  pushScore,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';
import { WebhookReceiver } from './alerts-webhook-receiver.js';

const unavailable = alertmanagerUnavailable();
const RESEND_MS = 2500;
const DASHBOARD = 'http://dashboard.example:8080/';

/** What Alertmanager's own webhook receiver gets (its notification payload, version 4). */
interface AmNotification {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; endsAt: string }[];
}

/**
 * Prometheus Alertmanager as a destination, against a real Alertmanager
 * (Debian's prometheus-alertmanager) started on a free port. Its receiver
 * is a webhook here, so the test also sees Alertmanager itself notify the
 * resolution.
 */
describe.skipIf(unavailable !== undefined)(
  `Alertmanager destination${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let f: AlertsFixture;
    let am: TestAlertmanager;
    let hook: WebhookReceiver;
    let alerter: RunningService;
    let dir: string;
    let dead: Server;

    beforeAll(async () => {
      f = await alertsFixture('am');
      hook = await WebhookReceiver.start();
      am = await startAlertmanager({ webhookUrl: hook.url });
      dir = mkdtempSync(join(tmpdir(), 'quantmon-am-rules-'));
      const rules = join(dir, 'rules.yaml');
      // A rule of our own next to var_exceeded: the same crossing fires both,
      // and its resolve is not held by whatever keep-firing var_exceeded has.
      writeFileSync(
        rules,
        `
rules:
  var_breach:
    metric: valueAtRisk
    transform: negate
    comparison: ">"
    threshold: 0.15
    level: critical
    subject: strategy
    labels: { desk: macro }
    recommendation: Cut gross exposure.
`,
      );
      // A second Alertmanager that drops every connection: its failures must
      // not hold back the first. (A listener of ours, so no other test can take its port.)
      dead = createServer((socket) => socket.destroy());
      await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
      const deadPort = (dead.address() as { port: number }).port;
      alerter = await startAlerter(f, {
        RULES_FILE: rules,
        ALERTMANAGER_URLS: `${am.url}/,http://127.0.0.1:${deadPort}`,
        ALERTMANAGER_RESEND_MS: String(RESEND_MS),
        ALERTMANAGER_TIMEOUT_MS: '500',
        DASHBOARD_URL: DASHBOARD,
      });
    });

    afterAll(async () => {
      const code = await alerter?.stop();
      await am?.stop();
      await hook?.close();
      await new Promise((r) => (dead ? dead.close(r) : r(undefined)));
      f?.redis.disconnect();
      await f?.server.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
      expect(code).toBe(0);
    });

    const inAm = (rule: string): Promise<GettableAlert[]> =>
      am.alerts([`strategy="am-a"`, `alertname="${rule}"`]);

    it('posts firing incidents with the documented labels, re-sends them, and resolves them with endsAt', async () => {
      await pushScore(f, 'am-a', { valueAtRisk: -0.3 });
      const firing = await waitEvent(
        f,
        (e) => e.rule === 'var_breach' && e.state === 'firing',
        'var_breach firing',
      );
      await waitEvent(f, (e) => e.rule === 'var_exceeded' && e.state === 'firing', 'var_exceeded');

      const [first] = await eventually(
        async () => ((await inAm('var_breach')).length === 1 ? inAm('var_breach') : undefined),
        10_000,
        `var_breach in Alertmanager\n${am.output()}`,
      );
      expect(first?.labels).toEqual({
        alertname: 'var_breach',
        severity: 'critical',
        rule: 'var_breach',
        strategy: 'am-a',
        desk: 'macro',
      });
      expect(first?.annotations).toEqual({
        summary: firing.message,
        recommendation: 'Cut gross exposure.',
        dashboard: DASHBOARD,
        incident: firing.incidentId,
      });
      expect(first?.generatorURL).toBe(DASHBOARD);
      expect(Date.parse(first?.startsAt ?? '')).toBe(firing.startsAt);
      expect(first?.status.state).not.toBe('suppressed');
      // A firing alert expires on its own unless re-sent: 4 resend periods ahead.
      expect(Date.parse(first?.endsAt ?? '') - Date.now()).toBeGreaterThan(2 * RESEND_MS);

      const [exceeded] = await eventually(
        async () => ((await inAm('var_exceeded')).length === 1 ? inAm('var_exceeded') : undefined),
        10_000,
        'var_exceeded in Alertmanager',
      );
      expect(exceeded?.labels).toMatchObject({
        alertname: 'var_exceeded',
        severity: 'critical',
        rule: 'var_exceeded',
        strategy: 'am-a',
      });

      // Re-sent while firing: each resend pushes endsAt further.
      const resent = await eventually(
        async () => {
          const [a] = await inAm('var_breach');
          return a && Date.parse(a.endsAt) > Date.parse(first?.endsAt ?? '') ? a : undefined;
        },
        4 * RESEND_MS,
        'a resend',
      );

      await pushScore(f, 'am-a', { valueAtRisk: -0.01 });
      await waitEvent(
        f,
        (e) => e.rule === 'var_breach' && e.state === 'resolved',
        'var_breach resolved',
      );
      // Gone from the active alerts long before it would have expired: the resolution was sent.
      await eventually(
        async () => ((await inAm('var_breach')).length === 0 ? true : undefined),
        10_000,
        'var_breach resolved in Alertmanager',
      );
      expect(Date.now()).toBeLessThan(Date.parse(resent.endsAt));

      // And Alertmanager itself notified its receiver of the firing alert and its resolution.
      const notified = await eventually(
        () => {
          const got = hook.ok
            .map((r) => r.json as AmNotification | undefined)
            .flatMap((n) => n?.alerts ?? [])
            .filter((a) => a.labels['alertname'] === 'var_breach');
          return got.some((a) => a.status === 'resolved') ? got : undefined;
        },
        10_000,
        'the resolved notification from Alertmanager',
      );
      expect(notified[0]?.status).toBe('firing');
    });

    it('counts posts: accepted by the live Alertmanager, failed to the dead one', async () => {
      await eventually(
        async () =>
          (await metric(alerter, 'quantmon_alertmanager_posts_total', 'outcome="ok"')) >= 3 &&
          (await metric(alerter, 'quantmon_alertmanager_posts_total', 'outcome="error"')) >= 1
            ? true
            : undefined,
        5000,
        'quantmon_alertmanager_posts_total{outcome}',
      );
    });
  },
);
