import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../helpers/services.js';
import { writeEntries } from '../helpers/streams.js';
import { scoreUpdate } from '../../services/alerter/src/testing-inputs.js';
import {
  alertEvents,
  alertsFixture,
  eventsFor,
  partitionKeys,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';

/**
 * A forecast rule (predict_linear) through the real alerter process: on a
 * steady decline it fires before the threshold rule, on noise it stays quiet.
 */
describe('forecast alerts', () => {
  let f: AlertsFixture;
  let dir: string;
  let alerter: RunningService | undefined;

  beforeAll(async () => {
    f = await alertsFixture('forecast');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-forecast-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(
      file,
      `
rules:
  drawdown_forecast:
    metric: currentDrawdown
    transform: negate
    comparison: '>'
    threshold: 0.10
    clearThreshold: 0.08
    level: warning
    subject: strategy
    forecast: { window: 20, horizon: 20 }
    recommendation: Drawdown is heading for its limit.
`,
    );
    alerter = await startAlerter(f, { RULES_FILE: file });
  });

  afterAll(async () => {
    const code = await alerter?.stop();
    f?.redis.disconnect();
    await f?.server.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('warns on a steady decline before drawdown_exceeded fires, and not on noise', async () => {
    // Deterministic noise around -4 %: the drawdown never nears 10 %.
    let seed = 17;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.04;
    const calm = Array.from({ length: 300 }, (_, i) =>
      scoreUpdate('calm', { currentDrawdown: -0.04 + noise() }, { ts: 1_700_000_000_000 + i }),
    );
    // Then a steady decline of 0.2 % a sample: 10 % at sample 50.
    const decline = Array.from({ length: 60 }, (_, i) =>
      scoreUpdate('falling', { currentDrawdown: -0.002 * i }, { ts: 1_700_000_000_000 + i }),
    );
    // One partition: the alerter reads them in this order, so once the
    // decline's threshold alert is written the calm series has been judged.
    await writeEntries(f.redis, partitionKeys(f, 'calm').scores, calm);
    await writeEntries(f.redis, partitionKeys(f, 'falling').scores, decline);
    await waitEvent(
      f,
      (e) => e.rule === 'drawdown_exceeded' && e.subject === 'strategy/falling',
      'drawdown_exceeded on the decline',
      30_000,
    );
    const events = await alertEvents(f);
    const forecast = eventsFor(events, 'drawdown_forecast', 'strategy/falling');
    expect(forecast.map((e) => e.state)).toEqual(['firing']);
    // Fired on sample 31 (drawdown 6.2 %, projected 10.2 %), before the limit was reached.
    expect(forecast[0]!.value).toBeCloseTo(0.102, 6);
    expect(forecast[0]!.message).toContain('projected 0.102 in 20 periods');
    const order = events.map((e) => e.rule);
    expect(order.indexOf('drawdown_forecast')).toBeLessThan(order.indexOf('drawdown_exceeded'));
    expect(events.filter((e) => e.subject === 'strategy/calm')).toEqual([]);
  });
});
