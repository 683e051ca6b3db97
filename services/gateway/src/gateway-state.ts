import {
  RETIRED_RULE,
  type AlertEvent,
  type ResumeStream,
  type ScoreUpdate,
  type StrategyList,
  type StreamPositions,
  type Summary,
  type SystemSample,
  type Topic,
} from '@quantmon/shared';
import { newestOf, positionsRecord } from './partition-positions.js';
import { maxId } from './stream-pos.js';
import { streamOf, tagOf } from './topics.js';

/** Strategy and host order of /api/summary: one collator, not one per comparison. */
const byName = new Intl.Collator().compare;

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
   * Strategies retired lately -> when: an update of the old windows still
   * on its way (the scores and alerts streams are read apart) is ignored.
   */
  private readonly retired = new Map<string, number>();
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
    const retiredAt = this.retired.get(u.strategy);
    if (retiredAt !== undefined && u.receivedAt <= retiredAt) return;
    const prev = this.scores.get(u.strategy);
    // Replays after a reconnect may bring an older update: keep the newest.
    if (!prev || prev.computedAt <= u.computedAt) this.scores.set(u.strategy, u);
  }

  applySystem(s: SystemSample): void {
    const prev = this.system.get(s.host);
    if (!prev || prev.ts <= s.ts) this.system.set(s.host, s);
  }

  applyAlert(a: AlertEvent): void {
    if (a.rule === RETIRED_RULE && a.subject.startsWith('strategy/')) {
      this.forgetStrategy(a.subject.slice('strategy/'.length), a.startsAt);
    }
    if (a.state === 'firing') this.activeAlerts.set(a.incidentId, a);
    else this.activeAlerts.delete(a.incidentId);
  }

  /** A retired strategy (DELETE /api/strategies, or its event on the alerts stream) at `at`. */
  forgetStrategy(strategy: string, at: number): void {
    this.scores.delete(strategy);
    this.retired.set(strategy, Math.max(at, this.retired.get(strategy) ?? 0));
  }

  /**
   * Drop strategies whose latest sample was received, and hosts whose
   * latest sample was taken, before `cutoff` (IDLE_FORGET_AFTER ago).
   * Returns what went.
   */
  forgetIdle(cutoff: number): { strategies: number; hosts: number } {
    let strategies = 0;
    let hosts = 0;
    for (const [id, u] of this.scores) {
      if (u.receivedAt < cutoff && this.scores.delete(id)) strategies++;
    }
    for (const [host, s] of this.system) {
      if (s.ts < cutoff && this.system.delete(host)) hosts++;
    }
    return { strategies, hosts };
  }

  /** Forget retirement marks from before `before`: no update of those windows is still in flight. */
  pruneRetired(before: number): void {
    for (const [id, at] of this.retired) if (at < before) this.retired.delete(id);
  }

  summary(now: number): Summary {
    return {
      ts: now,
      strategies: [...this.scores.values()].sort((a, b) => byName(a.strategy, b.strategy)),
      system: [...this.system.values()].sort((a, b) => byName(a.host, b.host)),
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
        .sort((a, b) => byName(a.strategy, b.strategy))
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
    const tag = tagOf(topic);
    if (tag) {
      const tagged = [...this.scores.values()].filter((u) => u.tags?.[tag.key] === tag.value);
      return { scores: tagged, ...at };
    }
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
