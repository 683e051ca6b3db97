import type {
  AlertEvent,
  ResumeStream,
  ScoreUpdate,
  StrategyList,
  StreamPositions,
  Summary,
  SystemSample,
  Topic,
} from '@quantmon/shared';
import { newestOf, positionsRecord } from './partition-positions.js';
import { maxId } from './stream-pos.js';
import { streamOf } from './topics.js';

/**
 * The latest state every gateway keeps in memory for snapshots and
 * /api/summary: newest score per strategy, newest sample per host, firing
 * alerts by incident, over every partition. Pure bookkeeping, fed from
 * the streams.
 */
export class GatewayState {
  readonly scores = new Map<string, ScoreUpdate>();
  readonly system = new Map<string, SystemSample>();
  readonly activeAlerts = new Map<string, AlertEvent>();
  /**
   * Per stream and partition, the newest entry this state includes
   * (snapshots say "resume from here").
   */
  readonly pos: Record<ResumeStream, string[]>;

  constructor(readonly partitions = 1) {
    const start = (): string[] => Array.from({ length: partitions }, () => '0-0');
    this.pos = { scores: start(), system: start(), alerts: start() };
  }

  /** Record that everything up to `id` on `stream` of partition `part` has been applied. */
  advance(stream: ResumeStream, part: number, id: string): void {
    const ids = this.pos[stream];
    ids[part] = maxId(ids[part] ?? '0-0', id);
  }

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

  /** `GET /api/strategies`: every strategy with its latest scores and firing alerts. */
  strategies(now: number): StrategyList {
    const firing = new Map<string, number>();
    for (const a of this.activeAlerts.values()) {
      if (a.subject.startsWith('strategy/')) {
        const id = a.subject.slice('strategy/'.length);
        firing.set(id, (firing.get(id) ?? 0) + 1);
      }
    }
    return {
      ts: now,
      strategies: [...this.scores.values()]
        .sort((a, b) => a.strategy.localeCompare(b.strategy))
        .map((u) => ({
          strategy: u.strategy,
          id: u.id,
          ts: u.ts,
          count: u.count,
          scores: u.scores,
          status: u.status,
          activeAlerts: firing.get(u.strategy) ?? 0,
        })),
    };
  }

  /** The positions of one stream, on the wire: `{[stream]: {"0": id, ...}}`. */
  positions(stream: ResumeStream): StreamPositions {
    return { [stream]: positionsRecord(this.pos[stream]) };
  }

  /**
   * The snapshot frame for one topic, with the positions it includes:
   * `positions` per partition, and `pos` (the only position with one
   * partition; with several, the newest, for display).
   */
  snapshot(topic: Topic): {
    scores?: ScoreUpdate[];
    system?: SystemSample[];
    alerts?: AlertEvent[];
    pos: string;
    positions: StreamPositions;
  } {
    const stream = streamOf(topic);
    const at = { pos: newestOf(this.pos[stream]), positions: this.positions(stream) };
    if (topic === 'system') return { system: [...this.system.values()], ...at };
    if (topic === 'alerts') return { alerts: this.sortedAlerts(), ...at };
    if (topic === 'strategy:*') return { scores: [...this.scores.values()], ...at };
    const one = this.scores.get(topic.slice('strategy:'.length));
    return { scores: one ? [one] : [], ...at };
  }

  private sortedAlerts(): AlertEvent[] {
    const rank = { critical: 0, warning: 1, info: 2 } as const;
    return [...this.activeAlerts.values()].sort(
      (a, b) => rank[a.level] - rank[b.level] || b.startsAt - a.startsAt,
    );
  }
}
