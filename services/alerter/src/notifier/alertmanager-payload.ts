import type { AlertEvent } from '@quantmon/shared';

/**
 * One alert as Alertmanager's v2 API takes it (`POST /api/v2/alerts`, a
 * JSON array of these): `postableAlert` in its OpenAPI spec.
 */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export interface AlertmanagerPayloadOptions {
  /** Firing alerts are re-sent this often; their endsAt is 4 of these ahead. */
  resendMs: number;
  /** Linked as the `dashboard` annotation and the generatorURL. */
  dashboardUrl?: string | undefined;
}

/**
 * As Prometheus does (4 x its resend delay): a firing alert that is not
 * re-sent expires on its own, so a dead alerter leaves no alert firing forever.
 */
export const FIRING_LIFETIME_RESENDS = 4;

/**
 * The labels identify the alert (Alertmanager fingerprints them): the same
 * rule on the same subject is one alert, incident after incident, as a
 * Prometheus series is. The rule's own labels come first, so they can add
 * routing labels (team, desk) but never replace the ones quantmon defines.
 */
export function alertmanagerLabels(e: AlertEvent): Record<string, string> {
  const labels: Record<string, string> = { ...e.labels };
  labels['alertname'] = e.rule;
  labels['severity'] = e.level;
  labels['rule'] = e.rule;
  const slash = e.subject.indexOf('/');
  if (slash > 0) labels[e.subject.slice(0, slash)] = e.subject.slice(slash + 1);
  return labels;
}

/** The alert for a firing or resolved event; `now` dates a firing alert's expiry. */
export function postableAlert(
  e: AlertEvent,
  now: number,
  opts: AlertmanagerPayloadOptions,
): PostableAlert {
  const annotations: Record<string, string> = { summary: e.message, incident: e.incidentId };
  if (e.recommendation) annotations['recommendation'] = e.recommendation;
  if (opts.dashboardUrl) annotations['dashboard'] = opts.dashboardUrl;
  const ends =
    e.state === 'resolved' && e.endsAt !== null
      ? e.endsAt
      : now + FIRING_LIFETIME_RESENDS * opts.resendMs;
  // Alertmanager rejects (400) an alert ending before it starts: startsAt
  // comes from Redis's clock (the entry id), endsAt from the alerter's.
  const endsAt = Math.max(ends, e.startsAt);
  return {
    labels: alertmanagerLabels(e),
    annotations,
    startsAt: new Date(e.startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    ...(opts.dashboardUrl ? { generatorURL: opts.dashboardUrl } : {}),
  };
}
