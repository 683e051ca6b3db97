import { createHmac } from 'node:crypto';
import type { AlertEvent } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { signature, targetOf, webhookBody } from './webhook-payload.js';

const event: AlertEvent = {
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
};

describe('webhook payloads', () => {
  it('builds an Alertmanager-shaped JSON body carrying the event', () => {
    const body = webhookBody({ kind: 'firing', target: targetOf('http://x'), event }, 'json') as {
      status: string;
      alerts: { fingerprint: string; labels: Record<string, string>; endsAt: string }[];
      quantmon: { event: AlertEvent };
    };
    expect(body.status).toBe('firing');
    expect(body.alerts[0]?.fingerprint).toBe(event.incidentId);
    expect(body.alerts[0]?.labels).toMatchObject({ rule: 'var_exceeded', level: 'critical' });
    expect(body.alerts[0]?.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(body.quantmon.event).toEqual(event);
  });

  it('builds a Slack message for resolved events', () => {
    const body = webhookBody(
      {
        kind: 'resolved',
        target: targetOf('http://x'),
        event: { ...event, state: 'resolved', endsAt: 1 },
      },
      'slack',
    ) as { text: string; attachments: { color: string }[] };
    expect(body.text).toMatch(/^\[RESOLVED\] CRITICAL var_exceeded on strategy\/a/);
    expect(body.attachments[0]?.color).toBe('#2ca02c');
  });

  it('signs timestamp.body with HMAC-SHA256', () => {
    const expected = createHmac('sha256', 'k').update('123.{"a":1}').digest('hex');
    expect(signature('k', '123', '{"a":1}')).toBe(`sha256=${expected}`);
    expect(targetOf('http://x')).toMatch(/^[0-9a-f]{16}$/);
  });
});
