import { createHash, createHmac } from 'node:crypto';
import type { AlertEvent, NotificationJobData } from '@quantmon/shared';
import { eventLabels } from '../silences.js';

/** Header names of a signed webhook (docs/alerts.md shows how to verify). */
export const SIGNATURE_HEADER = 'x-quantmon-signature';
export const TIMESTAMP_HEADER = 'x-quantmon-timestamp';

export type WebhookFormat = 'json' | 'slack';

/** The job's stand-in for a URL: the URL itself (Slack's carries a secret) stays in config. */
export function targetOf(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

const iso = (ms: number | null): string =>
  ms === null ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString();

/**
 * `json`: Alertmanager's webhook shape (version 4, one alert per message)
 * plus the quantmon event itself, so tools that take Alertmanager webhooks
 * take ours. `slack`: an incoming-webhook message (text plus one attachment).
 */
export function webhookBody(job: NotificationJobData, format: WebhookFormat): unknown {
  const e = job.event;
  const status = e.state === 'resolved' ? 'resolved' : 'firing';
  if (format === 'slack') return slackBody(job, status);
  const labels = eventLabels(e);
  return {
    version: '4',
    receiver: 'quantmon',
    status,
    groupKey: `${e.rule}|${e.subject}`,
    truncatedAlerts: 0,
    groupLabels: { rule: e.rule, subject: e.subject },
    commonLabels: labels,
    commonAnnotations: { summary: e.message, recommendation: e.recommendation },
    externalURL: '',
    alerts: [
      {
        status,
        labels,
        annotations: {
          summary: e.message,
          recommendation: e.recommendation,
          value: String(e.value),
          threshold: String(e.threshold),
        },
        startsAt: iso(e.startsAt),
        endsAt: iso(e.endsAt),
        generatorURL: '',
        fingerprint: e.incidentId,
      },
    ],
    quantmon: { kind: job.kind, event: e },
  };
}

const COLORS = { critical: '#d62728', warning: '#ff9f0e', info: '#1f77b4' } as const;

function slackBody(job: NotificationJobData, status: 'firing' | 'resolved'): unknown {
  const e: AlertEvent = job.event;
  const tag =
    status === 'resolved' ? 'RESOLVED' : job.kind === 'repeat' ? 'STILL FIRING' : 'FIRING';
  return {
    text: `[${tag}] ${e.level.toUpperCase()} ${e.rule} on ${e.subject}: ${e.message}`,
    attachments: [
      {
        color: status === 'resolved' ? '#2ca02c' : COLORS[e.level],
        title: `${e.rule} (${e.level}) on ${e.subject}`,
        text: e.recommendation,
        fields: [
          { title: 'Value', value: String(e.value), short: true },
          { title: 'Threshold', value: String(e.threshold), short: true },
          { title: 'Incident', value: e.incidentId, short: false },
        ],
        ts: Math.floor(e.ts / 1000),
      },
    ],
  };
}

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"). */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
