import type { AlertEvent } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { alertmanagerLabels, postableAlert } from './alertmanager-payload.js';

const firing: AlertEvent = {
  incidentId: 'var_exceeded__strategy-a__1-0',
  rule: 'var_exceeded',
  level: 'critical',
  subject: 'strategy/a',
  state: 'firing',
  value: 0.2,
  threshold: 0.15,
  metric: 'valueAtRisk',
  message: 'var_exceeded: valueAtRisk 0.2 > 0.15 on strategy/a',
  recommendation: 'Reduce exposure.',
  startsAt: 1_700_000_000_000,
  endsAt: null,
  ts: 1_700_000_000_000,
  labels: { team: 'risk', severity: 'page-me', alertname: 'x' },
};

describe('Alertmanager payloads', () => {
  it('labels an alert with alertname, severity, rule, the subject kind and the rule labels', () => {
    expect(alertmanagerLabels(firing)).toEqual({
      alertname: 'var_exceeded',
      severity: 'critical',
      rule: 'var_exceeded',
      strategy: 'a',
      team: 'risk',
    });
    expect(alertmanagerLabels({ ...firing, subject: 'host/h-1.x', labels: {} })).toMatchObject({
      host: 'h-1.x',
    });
    const system = alertmanagerLabels({ ...firing, subject: 'system' });
    expect(system).not.toHaveProperty('host');
    expect(system).not.toHaveProperty('strategy');
  });

  it('gives a firing alert an endsAt four resend periods ahead, so it expires unless re-sent', () => {
    const now = 1_700_000_060_000;
    const a = postableAlert(firing, now, { resendMs: 60_000 });
    expect(a.startsAt).toBe('2023-11-14T22:13:20.000Z');
    expect(Date.parse(a.endsAt)).toBe(now + 4 * 60_000);
    expect(a.annotations).toEqual({
      summary: firing.message,
      recommendation: 'Reduce exposure.',
      incident: firing.incidentId,
    });
    expect(a).not.toHaveProperty('generatorURL');
  });

  it('gives a resolved alert the incident end as endsAt, and links the dashboard when configured', () => {
    const endsAt = 1_700_000_030_000;
    const resolved: AlertEvent = { ...firing, state: 'resolved', endsAt, message: 'resolved' };
    const a = postableAlert(resolved, endsAt + 5000, {
      resendMs: 60_000,
      dashboardUrl: 'https://quantmon.example/',
    });
    expect(Date.parse(a.endsAt)).toBe(endsAt);
    expect(a.annotations['dashboard']).toBe('https://quantmon.example/');
    expect(a.annotations['summary']).toBe('resolved');
    expect(a.generatorURL).toBe('https://quantmon.example/');
  });

  it('never ends an alert before it starts (Alertmanager answers 400), whatever the clocks say', () => {
    const skewed: AlertEvent = { ...firing, state: 'resolved', endsAt: firing.startsAt - 300 };
    const a = postableAlert(skewed, firing.startsAt, { resendMs: 1000 });
    expect(a.endsAt).toBe(a.startsAt);
  });

  it('leaves out an empty recommendation', () => {
    const a = postableAlert({ ...firing, recommendation: '' }, firing.ts, { resendMs: 1000 });
    expect(a.annotations).not.toHaveProperty('recommendation');
  });
});
