import type { AlertEvent, ScoreUpdate, Summary, SystemSample, Topic } from '@quantmon/shared';

/**
 * The latest state every gateway keeps in memory for snapshots and
 * /api/summary: newest score per strategy, newest sample per host, firing
 * alerts by incident. Pure bookkeeping, fed from the streams.
 */
export class GatewayState {
  readonly scores = new Map<string, ScoreUpdate>();
  readonly system = new Map<string, SystemSample>();
  readonly activeAlerts = new Map<string, AlertEvent>();

  applyScore(u: ScoreUpdate): void {
    const prev = this.scores.get(u.strategy);
    // Replays after a reconnect may bring an older update: keep the newest.
    if (!prev || prev.computedAt <= u.computedAt) this.scores.set(u.strategy, u);
  }

  applySystem(s: SystemSample): void {
    const prev = this.system.get(s.host);
    if (!prev || prev.ts <= s.ts) this.system.set(s.host, s);
  }

  applyAlert(a: AlertEvent): void {
    if (a.state === 'firing') this.activeAlerts.set(a.incidentId, a);
    else this.activeAlerts.delete(a.incidentId);
  }

  summary(now: number): Summary {
    return {
      ts: now,
      strategies: [...this.scores.values()].sort((a, b) => a.strategy.localeCompare(b.strategy)),
      system: [...this.system.values()].sort((a, b) => a.host.localeCompare(b.host)),
      activeAlerts: this.sortedAlerts(),
    };
  }

  /** The snapshot frame for one topic. */
  snapshot(topic: Topic): {
    scores?: ScoreUpdate[];
    system?: SystemSample[];
    alerts?: AlertEvent[];
  } {
    if (topic === 'system') return { system: [...this.system.values()] };
    if (topic === 'alerts') return { alerts: this.sortedAlerts() };
    if (topic === 'strategy:*') return { scores: [...this.scores.values()] };
    const one = this.scores.get(topic.slice('strategy:'.length));
    return { scores: one ? [one] : [] };
  }

  private sortedAlerts(): AlertEvent[] {
    const rank = { critical: 0, warning: 1, info: 2 } as const;
    return [...this.activeAlerts.values()].sort(
      (a, b) => rank[a.level] - rank[b.level] || b.startsAt - a.startsAt,
    );
  }
}
