import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningService } from '../helpers/services.js';
import {
  alertEvents,
  alertsFixture,
  eventsFor,
  partitionKeys,
  pushScore,
  pushSystem,
  sleep,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';

/** Silence is never a pass: a subject that stops reporting raises its own no_data incident. */
describe('no-data alerts', () => {
  let f: AlertsFixture;
  let alerter: RunningService | undefined;
  const env = { ALERTER_NO_DATA_MS: '1500' };

  beforeAll(async () => {
    f = await alertsFixture('nodata');
  });
  afterAll(async () => {
    const code = await alerter?.stop();
    f?.redis.disconnect();
    await f?.server.dispose();
    expect(code ?? 0).toBe(0);
  });

  it('raises no_data for a silent strategy and a silent host, keeps it across a restart, resolves it when data returns', async () => {
    alerter = await startAlerter(f, env);
    const t0 = Date.now();
    await pushScore(f, 'quiet', { valueAtRisk: -0.01 });
    await pushSystem(f, 'dead-host', { cpu: 5 });
    const strat = await waitEvent(
      f,
      (e) => e.rule === 'no_data' && e.subject === 'strategy/quiet',
      'strategy no_data',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(strat).toMatchObject({ state: 'firing', level: 'warning', threshold: 1.5 });
    expect(strat.value).toBeGreaterThanOrEqual(1.5);
    await waitEvent(
      f,
      (e) => e.rule === 'no_data' && e.subject === 'host/dead-host',
      'host no_data',
    );

    // A restart neither resolves it nor opens a second one.
    expect(await alerter.stop()).toBe(0);
    alerter = await startAlerter(f, env);
    await sleep(2000);
    expect(eventsFor(await alertEvents(f), 'no_data', 'strategy/quiet')).toHaveLength(1);

    await pushScore(f, 'quiet', { valueAtRisk: -0.01 });
    const back = await waitEvent(
      f,
      (e) => e.subject === 'strategy/quiet' && e.state === 'resolved',
      'no_data resolved',
    );
    expect(back.incidentId).toBe(strat.incidentId);
  });

  it('remembers last-seen times across a restart: a subject that went silent while the alerter was down still alerts', async () => {
    await pushScore(f, 'forgotten', { valueAtRisk: -0.01 });
    // Processed, and its last-seen time persisted in its partition.
    await eventually(
      async () =>
        (await f.redis.hget(partitionKeys(f, 'forgotten').lastSeen, 'strategy/forgotten')) ??
        undefined,
      10_000,
      'last-seen of strategy/forgotten persisted',
    );
    expect(await alerter!.stop()).toBe(0);
    alerter = undefined;
    alerter = await startAlerter(f, env);
    const e = await waitEvent(
      f,
      (x) => x.rule === 'no_data' && x.subject === 'strategy/forgotten',
      'no_data after restart',
    );
    expect(e.state).toBe('firing');
  });
});
