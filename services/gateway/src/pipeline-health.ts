import {
  replicaStatus,
  type ReplicaStatus,
  type ServiceHeartbeat,
  type SupervisorRestart,
  type SystemSample,
} from '@quantmon/shared';
import type { EmergencyCounts } from './emergency-queue.js';

/** The four services of a pipeline, in the order data flows. */
export const SERVICES = ['collector', 'scorer', 'alerter', 'gateway'] as const;

export interface ReplicaView {
  replica: string;
  host: string;
  pid: number;
  version: string;
  status: ReplicaStatus;
  startedAt: number;
  lastBeatAt: number;
  /** Seconds since its start while up; at its last beat otherwise. */
  uptimeSeconds: number;
  /** Seconds since its last beat. */
  silentSeconds: number;
  stoppedAt?: number;
}

export interface ServiceView {
  service: string;
  /** up: a replica beats; down: none does and one stopped without saying so; stopped: all stopped cleanly; unknown: never seen. */
  status: 'up' | 'down' | 'stopped' | 'unknown';
  up: number;
  replicas: ReplicaView[];
  /**
   * Restarts by `npm start`'s supervisor since it began, over every host and
   * replica of the service; 0 when nothing supervises it (docker compose).
   */
  restarts: number;
  /** The latest of those restarts; absent when there was none. */
  lastRestart?: RestartView;
}

export interface RestartView {
  /** The supervised child: the service, or `scorer-2` for a replica. */
  child: string;
  host: string;
  at: number;
  /** How it ended: `killed by SIGKILL`, `exited with code 1`. */
  exit: string;
  /** Restarts of that child. */
  restarts: number;
}

export interface GroupLag {
  /** strategy-samples, scores, system-samples or alert-commands. */
  stream: string;
  group: string;
  /** The partition, or null for the global alert-commands stream. */
  partition: number | null;
  /** Entries not yet delivered to the group (XINFO GROUPS `lag`), or null when Redis cannot tell. */
  lag: number | null;
  /** Delivered and not acknowledged. */
  pending: number | null;
}

export interface PipelineHealth {
  ts: number;
  partitions: number;
  /** A replica silent longer than this is down. */
  downAfterMs: number;
  services: ServiceView[];
  lag: GroupLag[];
  /** Strategy samples written per second over `ingest.overSeconds`, null until two readings. */
  ingest: { samplesPerSecond: number | null; overSeconds: number | null; total: number | null };
  deadLetters: number | null;
  /** Pipeline errors counted over the last minute (scorer, alerter, ingest). */
  pipelineErrorsLastMinute: number | null;
  /** Per host, the error rate its collector last reported (percent). */
  errorRate: { host: string; percent: number | null; at: number }[];
  emergencyQueue: (EmergencyCounts & { error?: undefined }) | { error: string };
}

/**
 * Replicas grouped by service: the four pipeline services always listed,
 * then any other that beats; each with the supervisor's restarts of it
 * (restarts of a child that is not a heartbeating service, the demo feed,
 * are not shown).
 */
export function serviceViews(
  beats: readonly ServiceHeartbeat[],
  now: number,
  downAfterMs: number,
  restarts: readonly SupervisorRestart[] = [],
): ServiceView[] {
  const by = new Map<string, ReplicaView[]>(SERVICES.map((s) => [s, []]));
  for (const h of beats) {
    const status = replicaStatus(h, now, downAfterMs);
    const last = h.stoppedAt ?? h.beatAt;
    const list = by.get(h.service) ?? [];
    list.push({
      replica: h.replica,
      host: h.host,
      pid: h.pid,
      version: h.version,
      status,
      startedAt: h.startedAt,
      lastBeatAt: h.beatAt,
      uptimeSeconds: Math.max(0, ((status === 'up' ? now : last) - h.startedAt) / 1000),
      silentSeconds: Math.max(0, (now - h.beatAt) / 1000),
      ...(h.stoppedAt !== undefined ? { stoppedAt: h.stoppedAt } : {}),
    });
    by.set(h.service, list);
  }
  const order = { up: 0, down: 1, stopped: 2 } as const;
  return [...by].map(([service, replicas]) => {
    replicas.sort((a, b) => order[a.status] - order[b.status] || b.lastBeatAt - a.lastBeatAt);
    const up = replicas.filter((r) => r.status === 'up').length;
    const status: ServiceView['status'] =
      replicas.length === 0
        ? 'unknown'
        : up > 0
          ? 'up'
          : replicas.some((r) => r.status === 'down')
            ? 'down'
            : 'stopped';
    return { service, status, up, replicas, ...restartsOf(service, restarts) };
  });
}

function restartsOf(
  service: string,
  records: readonly SupervisorRestart[],
): Pick<ServiceView, 'restarts' | 'lastRestart'> {
  const mine = records.filter((r) => r.service === service);
  const last = mine.reduce<SupervisorRestart | undefined>(
    (a, r) => (a === undefined || r.lastAt > a.lastAt ? r : a),
    undefined,
  );
  return {
    restarts: mine.reduce((n, r) => n + r.restarts, 0),
    ...(last
      ? {
          lastRestart: {
            child: last.child,
            host: last.host,
            at: last.lastAt,
            exit: last.lastExit,
            restarts: last.restarts,
          },
        }
      : {}),
  };
}

/**
 * Ingest rate from the strategy-sample streams' cumulative `entries-added`
 * (summed over partitions), between the newest reading and the oldest one
 * kept within `windowMs`. A gateway keeps its own readings: the first
 * request after a start answers null.
 */
export class IngestRate {
  private readings: { at: number; total: number }[] = [];
  constructor(private readonly windowMs = 10_000) {}

  observe(
    at: number,
    total: number,
  ): { samplesPerSecond: number | null; overSeconds: number | null } {
    this.readings = this.readings.filter((r) => at - r.at <= this.windowMs && r.total <= total);
    const oldest = this.readings[0];
    this.readings.push({ at, total });
    if (!oldest || at - oldest.at < 500) return { samplesPerSecond: null, overSeconds: null };
    const seconds = (at - oldest.at) / 1000;
    return { samplesPerSecond: (total - oldest.total) / seconds, overSeconds: seconds };
  }
}

export function errorRates(system: Iterable<SystemSample>): PipelineHealth['errorRate'] {
  return [...system]
    .map((s) => ({ host: s.host, percent: s.errorRate ?? null, at: s.ts }))
    .sort((a, b) => a.host.localeCompare(b.host));
}
