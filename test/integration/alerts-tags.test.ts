import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningService } from '../helpers/services.js';
import {
  alertEvents,
  alertsFixture,
  pushScore,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';
import { WebhookReceiver } from './alerts-webhook-receiver.js';

interface Payload {
  status: string;
  commonLabels: Record<string, string>;
  alerts: { labels: Record<string, string> }[];
}

/**
 * Strategy tags through the real alerter: they label incidents and reach a
 * webhook receiver's payload (so routing can use them), a rule can match a
 * tag, and an override can be keyed by one.
 */
describe('alerts by strategy tag', () => {
  let f: AlertsFixture;
  let dir: string;
  let hook: WebhookReceiver;
  let alerter: RunningService | undefined;

  beforeAll(async () => {
    f = await alertsFixture('tags');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-tags-'));
    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      `
rules:
  var_exceeded:
    overrides:
      'desk=rates': { threshold: 0.05, clearThreshold: 0.04 }
  rates_loss:
    metric: cumulativeReturn
    comparison: '<'
    threshold: -0.02
    level: warning
    subject: strategy
    match: { desk: rates }
    labels: { team: rates-risk }
    recommendation: A rates strategy is down 2 %.
`,
    );
    hook = await WebhookReceiver.start();
    alerter = await startAlerter(f, { RULES_FILE: rules, WEBHOOK_URLS: hook.url });
  });

  afterAll(async () => {
    const code = await alerter?.stop();
    await hook?.close();
    f?.redis.disconnect();
    await f?.server.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('sends the strategy tags as labels to webhook receivers', async () => {
    const tags = { desk: 'rates', manager: 'kim', asset_class: 'govt' };
    await pushScore(f, 'ust-10y', { valueAtRisk: -0.08 }, { tags });
    const e = await waitEvent(
      f,
      (x) => x.rule === 'var_exceeded' && x.subject === 'strategy/ust-10y',
      'var_exceeded on the rates strategy',
    );
    // The desk's override (0.05), not the default 0.15, opened it.
    expect(e).toMatchObject({ threshold: 0.05, labels: tags });
    const got = await eventually(
      () =>
        hook.ok.find(
          (r) => (r.json as Payload).alerts[0]?.labels['subject'] === 'strategy/ust-10y',
        ),
      15_000,
      'the webhook delivery',
    );
    const body = got.json as Payload;
    expect(body.status).toBe('firing');
    expect(body.alerts[0]!.labels).toMatchObject({ ...tags, rule: 'var_exceeded' });
    expect(body.commonLabels).toMatchObject(tags);
  });

  it('judges a rule with `match` only on strategies carrying the tag', async () => {
    await pushScore(f, 'eurusd', { cumulativeReturn: -0.05 }, { tags: { desk: 'fx' } });
    await pushScore(f, 'bund', { cumulativeReturn: -0.05 }, { tags: { desk: 'rates' } });
    const e = await waitEvent(f, (x) => x.rule === 'rates_loss', 'rates_loss');
    expect(e).toMatchObject({
      subject: 'strategy/bund',
      labels: { desk: 'rates', team: 'rates-risk' },
    });
    // eurusd was written first, on the same partition: it has been judged.
    const all = await alertEvents(f);
    expect(all.filter((x) => x.subject === 'strategy/eurusd')).toEqual([]);
  });
});
