import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningService } from '../helpers/services.js';
import {
  alertsFixture,
  pushScore,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';
import { fingerprint, WebhookReceiver } from './alerts-webhook-receiver.js';

/**
 * A webhook delivery is a BullMQ job taken by one alerter's worker: when
 * that alerter dies mid-delivery, the job waits for its lock to expire and
 * a stall check, then another alerter's worker delivers it.
 */
describe('webhook delivery when its alerter dies', () => {
  let f: AlertsFixture;
  let hook: WebhookReceiver | undefined;
  const running: RunningService[] = [];

  beforeAll(async () => {
    f = await alertsFixture('hooktakeover');
  });
  afterAll(async () => {
    const codes = await Promise.all(running.map((s) => s.stop()));
    await hook?.close();
    f?.redis.disconnect();
    await f?.server.dispose();
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  it('is made by another alerter within 25 s of a SIGKILL in the middle of it', async () => {
    // The first attempt never gets an answer (within a 2-minute timeout):
    // the delivery is in flight when its alerter is killed.
    hook = await WebhookReceiver.start((n) => (n === 1 ? 'hang' : 200));
    const env = { WEBHOOK_URLS: hook.url, WEBHOOK_TIMEOUT_MS: '120000' };
    const first = await startAlerter(f, env);
    await pushScore(f, 'taken-over', { valueAtRisk: -0.3 });
    const firing = await waitEvent(f, (e) => e.subject === 'strategy/taken-over', 'firing');
    await eventually(
      () => (hook!.attempts.size > 0 ? true : undefined),
      10_000,
      'the first delivery attempt',
    );
    await first.kill();
    const killedAt = Date.now();

    running.push(await startAlerter(f, env));
    const [delivered] = await eventually(
      () => (hook!.ok.length > 0 ? hook!.ok : undefined),
      25_000,
      "the delivery by the second alerter (BullMQ's 30 s lock would take 30-60 s)",
    );
    console.log(`webhook delivered ${delivered!.at - killedAt} ms after its alerter was killed`);
    expect(fingerprint(delivered!.json)).toBe(`${firing.incidentId}|firing`);
    expect([...hook.attempts.entries()]).toEqual([[`${firing.incidentId}|firing`, 2]]);
  });
});
