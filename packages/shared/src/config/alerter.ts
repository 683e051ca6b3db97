import { z } from 'zod';
import {
  CommonEnv,
  common,
  int,
  list,
  parseEnv,
  port,
  type CommonConfig,
  type Env,
} from './env.js';

const AlerterEnv = CommonEnv.extend({
  ALERTER_PORT: port(8083),
  /** Kept from the one-lane alerter: an alias of REPLICA_ID for the alerter. */
  ALERTER_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  /** Partition lease TTL: partitions of a dead replica move within about this long. */
  LEASE_TTL_MS: int(5000, 500, 300_000),
  ALERTER_MIN_OBSERVATIONS: int(20, 1, 1_000_000),
  /** YAML or JSON rules file overriding and extending the default rules (docs/alerts.md). */
  RULES_FILE: z.string().min(1).optional(),
  /** Reload the rules file when it changes (SIGHUP always reloads). */
  RULES_WATCH: z.stringbool().default(true),
  /** A subject silent this long raises a no_data alert; 0 turns it off (the rules file may override). */
  ALERTER_NO_DATA_MS: int(300_000, 0, 30 * 24 * 3_600_000),
  /** Period of the timer that checks no-data, repeats, silence expiry and the outbox. */
  ALERTER_TICK_MS: int(1000, 50, 60_000),
  /** Partition lease TTL (alias of LEASE_TTL_MS for the alerter, kept from the one-lane leader lock). */
  ALERTER_LEADER_TTL_MS: int(5000, 500, 300_000).optional(),
  /** Entries pending this long on a dead consumer are claimed by the leader. */
  ALERTER_CLAIM_IDLE_MS: int(10_000, 500, 3_600_000),
  /** Webhook receivers for firing / resolved / repeat notifications (comma-separated). */
  WEBHOOK_URLS: list.pipe(z.array(z.url({ protocol: /^https?$/ }))),
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** HMAC-SHA256 key for the X-Quantmon-Signature header; unsigned when unset. */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_FORMAT: z.enum(['json', 'slack']).default('json'),
  WEBHOOK_TIMEOUT_MS: int(5000, 100, 120_000),
  WEBHOOK_ATTEMPTS: int(5, 1, 100),
  WEBHOOK_BACKOFF_MS: int(1000, 10, 3_600_000),
  /** Prometheus Alertmanagers (comma-separated base URLs): firing incidents are posted to `<url>/api/v2/alerts`. */
  ALERTMANAGER_URLS: list.pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /** Firing alerts are re-sent this often (Prometheus's resend delay); they expire after 4 of these unless re-sent. */
  ALERTMANAGER_RESEND_MS: int(60_000, 100, 3_600_000),
  ALERTMANAGER_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** The dashboard's URL, linked from each alert's `dashboard` annotation and generatorURL. */
  DASHBOARD_URL: z.url({ protocol: /^https?$/ }).optional(),
});

export interface WebhookConfig {
  urls: string[];
  secret: string | undefined;
  format: 'json' | 'slack';
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
}

export interface AlertmanagerConfig {
  /** Base URLs, without `/api/v2/alerts`; empty: off. */
  urls: string[];
  resendMs: number;
  timeoutMs: number;
  dashboardUrl: string | undefined;
}

export interface AlerterConfig extends CommonConfig {
  port: number;
  consumer: string;
  /** Strategy rules on statistics wait for this many observations (a Sharpe of 2 samples is noise). */
  minObservations: number;
  rulesFile: string | undefined;
  rulesWatch: boolean;
  noDataMs: number;
  tickMs: number;
  leaderTtlMs: number;
  claimIdleMs: number;
  webhook: WebhookConfig;
  alertmanager: AlertmanagerConfig;
}

export function loadAlerterConfig(env: Env): AlerterConfig {
  const e = parseEnv(AlerterEnv, env);
  const base = common(e, 'alerter');
  return {
    ...base,
    port: e.ALERTER_PORT,
    consumer: e.ALERTER_CONSUMER ?? base.replicaId,
    minObservations: e.ALERTER_MIN_OBSERVATIONS,
    rulesFile: e.RULES_FILE,
    rulesWatch: e.RULES_WATCH,
    noDataMs: e.ALERTER_NO_DATA_MS,
    tickMs: e.ALERTER_TICK_MS,
    leaderTtlMs: e.ALERTER_LEADER_TTL_MS ?? e.LEASE_TTL_MS,
    claimIdleMs: e.ALERTER_CLAIM_IDLE_MS,
    webhook: {
      urls: [...new Set([...(e.WEBHOOK_URL ? [e.WEBHOOK_URL] : []), ...e.WEBHOOK_URLS])],
      secret: e.WEBHOOK_SECRET,
      format: e.WEBHOOK_FORMAT,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      attempts: e.WEBHOOK_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
    },
    alertmanager: {
      urls: [...new Set(e.ALERTMANAGER_URLS.map((u) => u.replace(/\/+$/, '')))],
      resendMs: e.ALERTMANAGER_RESEND_MS,
      timeoutMs: e.ALERTMANAGER_TIMEOUT_MS,
      dashboardUrl: e.DASHBOARD_URL,
    },
  };
}
