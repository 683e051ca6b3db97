import { Counter, Gauge, type Registry } from 'prom-client';

/** The alerter's Prometheus metrics (on /metrics). */
export function alerterMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'quantmon_alert_events_total',
      help: 'Alert events written',
      labelNames: ['rule', 'state'] as const,
      registers,
    }),
    jobs: new Counter({
      name: 'quantmon_emergency_jobs_total',
      help: 'Emergency jobs enqueued',
      labelNames: ['name'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'quantmon_dead_letter_total',
      help: 'Malformed entries dead-lettered',
      labelNames: ['stream'] as const,
      registers,
    }),
    enqueueErrors: new Counter({
      name: 'quantmon_emergency_enqueue_errors_total',
      help: 'Failed attempts to enqueue an emergency job (retried)',
      registers,
    }),
    notifyErrors: new Counter({
      name: 'quantmon_notify_enqueue_errors_total',
      help: 'Failed attempts to enqueue a notification (retried)',
      registers,
    }),
    notifications: new Counter({
      name: 'quantmon_notifications_total',
      help: 'Webhook notifications delivered, or failed after every attempt',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    alertmanagerPosts: new Counter({
      name: 'quantmon_alertmanager_posts_total',
      help: 'POSTs of alerts to an Alertmanager (failed ones are retried at the next resend)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    conflicts: new Counter({
      name: 'quantmon_incident_conflicts_total',
      help: 'Incident writes pre-empted by another alerter (state adopted)',
      registers,
    }),
    leader: new Gauge({
      name: 'quantmon_alerter_leader',
      help: 'Partitions this alerter replica owns (0: standby, all partitions held by others)',
      registers,
    }),
    rules: new Gauge({ name: 'quantmon_alert_rules', help: 'Rules in force', registers }),
    reloadErrors: new Counter({
      name: 'quantmon_rules_reload_errors_total',
      help: 'Rules reloads that failed (previous rules kept)',
      registers,
    }),
  };
}
