import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesInForce } from '@quantmon/shared';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import { alertsFixture, startAlerter, type AlertsFixture } from './alerts-helpers.js';

describe('GET /api/rules', () => {
  let f: AlertsFixture;
  let dir: string;
  let gateway: RunningService | undefined;
  const running: RunningService[] = [];
  const token = 'rules-api-token';

  beforeAll(async () => {
    f = await alertsFixture('rules-api');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-rules-api-'));
    gateway = await startService('gateway', { ...f.env, GATEWAY_TOKENS: token });
    running.push(gateway);
  });
  afterAll(async () => {
    const codes = await Promise.all(running.map((s) => s.stop()));
    f?.redis.disconnect();
    await f?.server.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  const get = (path = '/api/rules', auth = token) =>
    fetch(`http://127.0.0.1:${gateway?.port}${path}`, {
      headers: { authorization: `Bearer ${auth}` },
    });

  it('answers 404 with a reason until an alerter has published its rules', async () => {
    const res = await get();
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/no alerter has started/) });
    expect((await get('/api/rules', 'wrong')).status).toBe(401);
  });

  it('serves the rules the alerter loaded and where each came from, and follows a reload', async () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(
      file,
      [
        'rules:',
        '  drawdown_exceeded:',
        '    keepFiringFor: 2m',
        '    overrides:',
        '      alpha: { threshold: 0.2 }',
        '  cpu_high: { enabled: false }',
        '  weight_drift_high:',
        '    metric: weightDrift',
        "    comparison: '>'",
        '    threshold: 5',
        '    level: info',
        '    subject: strategy',
        '    recommendation: Check the order router.',
        '',
      ].join('\n'),
    );
    const alerter = await startAlerter(f, { RULES_FILE: file, LOG_LEVEL: 'info' });
    running.push(alerter);
    expect(alerter.output()).toMatch(
      /"file":"[^"]*rules\.yaml".*"overrides":\["drawdown_exceeded"\].*"msg":"rules loaded"/,
    );

    const res = await get();
    expect(res.status).toBe(200);
    const doc = RulesInForce.parse(await res.json());
    expect(doc.file).toBe(file);
    expect(doc.replica).toMatch(/./);
    const byName = new Map(doc.rules.map((r) => [r.name, r]));
    expect(byName.get('drawdown_exceeded')).toMatchObject({
      origin: 'override',
      keepFiringForMs: 120_000,
      overrides: ['alpha'],
    });
    expect(byName.get('weight_drift_high')).toMatchObject({ origin: 'file', level: 'info' });
    expect(byName.get('var_exceeded')).toMatchObject({ origin: 'default', threshold: 0.15 });
    expect(byName.has('cpu_high')).toBe(false);

    writeFileSync(file, 'rules:\n  drawdown_exceeded:\n    keepFiringFor: 5m\n');
    const reloaded = await eventually(
      async () => {
        const next = RulesInForce.parse(await (await get()).json());
        return next.loadedAt > doc.loadedAt ? next : undefined;
      },
      15_000,
      'the reloaded rules',
    );
    const names = reloaded.rules.map((r) => r.name);
    expect(names).toContain('cpu_high');
    expect(names).not.toContain('weight_drift_high');
    expect(reloaded.rules.find((r) => r.name === 'drawdown_exceeded')?.keepFiringForMs).toBe(
      300_000,
    );
    await eventually(
      () => (alerter.output().includes('"msg":"rules reloaded"') ? true : undefined),
      5000,
      'the reload log line',
    );
  });
});
