import type { AlertEvent, AlertmanagerConfig, Logger } from '@quantmon/shared';
import { postableAlert, type PostableAlert } from './alertmanager-payload.js';

export interface AlertmanagerDeps {
  config: AlertmanagerConfig;
  log: Logger;
  /** Each POST's outcome, for quantmon_alertmanager_posts_total{outcome}. */
  onPost?: (outcome: 'ok' | 'error') => void;
  /** Tests replace the network. */
  fetch?: typeof fetch;
}

/** A resolved alert whose POST keeps failing is dropped this long after it resolved (Prometheus's resolved retention). */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/**
 * Prometheus Alertmanager as a destination (its v2 API). One instance per
 * alerter holds the configured Alertmanagers and the transport; each
 * partition engine takes an {@link AlertmanagerOutbox} of its own for the
 * bookkeeping of its own incidents.
 */
export class Alertmanager {
  private readonly closing = new AbortController();

  constructor(private readonly deps: AlertmanagerDeps) {}

  get enabled(): boolean {
    return this.deps.config.urls.length > 0;
  }

  get config(): AlertmanagerConfig {
    return this.deps.config;
  }

  /** The bookkeeping of one engine (one partition's term). */
  outbox(log: Logger): AlertmanagerOutbox {
    return new AlertmanagerOutbox(this, log);
  }

  /** POST the alerts to one Alertmanager; false (logged and counted) on any failure. */
  async post(url: string, alerts: PostableAlert[], log: Logger): Promise<boolean> {
    const doFetch = this.deps.fetch ?? fetch;
    // A timer of our own, not AbortSignal.timeout/any: Node 20 may collect
    // those signals before they fire, and a post would then hang for good.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('timed out')), this.deps.config.timeoutMs);
    const onClose = (): void => abort.abort(new Error('alerter closing'));
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    try {
      const res = await doFetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'quantmon-alerter' },
        body: JSON.stringify(alerts),
        signal: abort.signal,
      });
      const text = await res.text().catch(() => '');
      if (!res.ok) throw new Error(`alertmanager answered ${res.status}: ${text.slice(0, 200)}`);
      this.deps.onPost?.('ok');
      return true;
    } catch (err) {
      this.deps.onPost?.('error');
      if (!this.closing.signal.aborted) {
        log.warn(
          { err, alertmanager: hostOf(url), alerts: alerts.length },
          'alertmanager post failed, will retry at the next resend',
        );
      }
      return false;
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', onClose);
    }
  }

  /** Abandon posts in flight (shutdown). */
  close(): void {
    this.closing.abort();
  }
}

interface Target {
  url: string;
  /** Firing incident id -> when this Alertmanager last accepted it. */
  sentAt: Map<string, number>;
  /** Resolved events owed to this Alertmanager (sent once, kept until accepted). */
  resolved: Map<string, AlertEvent>;
  /** After a failure nothing is posted before this time (the next resend). */
  retryAt: number;
  inFlight: boolean;
}

/**
 * One engine's Alertmanager bookkeeping: which firing incidents each
 * Alertmanager has and when, which resolutions it is owed. Posts run in the
 * background (never awaited by the engine): one at a time per
 * Alertmanager, so a slow one delays only itself.
 */
export class AlertmanagerOutbox {
  private readonly targets: Target[];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly am: Alertmanager,
    private readonly log: Logger,
  ) {
    this.targets = am.config.urls.map((url) => ({
      url,
      sentAt: new Map(),
      resolved: new Map(),
      retryAt: 0,
      inFlight: false,
    }));
  }

  /**
   * Send what is due: `firing` incidents never sent or last sent a resend
   * period ago, and the `resolved` events (once each). With `complete`,
   * `firing` is every incident that should be in Alertmanager: the others
   * (silenced since, or taken over) are no longer re-sent and expire there.
   */
  send(
    firing: readonly AlertEvent[],
    resolved: readonly AlertEvent[],
    now: number,
    complete: boolean,
  ): void {
    const { resendMs } = this.am.config;
    for (const t of this.targets) {
      for (const e of resolved) {
        t.sentAt.delete(e.incidentId);
        t.resolved.set(e.incidentId, e);
      }
      if (complete) {
        const live = new Set(firing.map((e) => e.incidentId));
        for (const id of t.sentAt.keys()) if (!live.has(id)) t.sentAt.delete(id);
      }
      for (const [id, e] of t.resolved) {
        if (now - (e.endsAt ?? now) > RESOLVED_RETENTION_MS) t.resolved.delete(id);
      }
      if (t.inFlight || now < t.retryAt) continue;
      const due = firing.filter((e) => now - (t.sentAt.get(e.incidentId) ?? -Infinity) >= resendMs);
      // Resolutions first: a new incident on the same rule and subject is the same alert.
      const ended = [...t.resolved.values()];
      if (due.length === 0 && ended.length === 0) continue;
      this.post(t, due, ended, now);
    }
  }

  /** Wait for posts in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private post(t: Target, due: AlertEvent[], ended: AlertEvent[], now: number): void {
    const opts = { resendMs: this.am.config.resendMs, dashboardUrl: this.am.config.dashboardUrl };
    const alerts = [...ended, ...due].map((e) => postableAlert(e, now, opts));
    t.inFlight = true;
    const p = this.am.post(t.url, alerts, this.log).then((ok) => {
      t.inFlight = false;
      if (!ok) {
        t.retryAt = now + this.am.config.resendMs;
        return;
      }
      for (const e of due) t.sentAt.set(e.incidentId, now);
      for (const e of ended)
        if (t.resolved.get(e.incidentId) === e) t.resolved.delete(e.incidentId);
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}
