import type { AlertEvent, Logger } from '@quantmon/shared';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import type { AlerterCore } from './alerter-core.js';
import { enqueueOnce, markResolved } from './emergency.js';
import type { Incident } from './incident.js';
import type { FencedTarget } from './incident-store.js';
import type { AlertmanagerOutbox } from './notifier/alertmanager.js';
import type { Notifier } from './notifier/notifier.js';
import type { Transition } from './transition.js';

export interface EngineMetrics {
  events: Counter<'rule' | 'state'>;
  jobs: Counter<'name'>;
  enqueueErrors: Counter;
  notifyErrors: Counter;
  conflicts: Counter;
}

export interface OutboxDeps {
  redis: Redis;
  /** The partition this engine owns for one term, and the lease fencing its writes. */
  target: FencedTarget;
  log: Logger;
  emergencyQueue: Queue;
  notifier: Notifier;
  metrics: EngineMetrics;
  /** A failed enqueue or notification: counted in the pipeline's error rate. */
  onError?: () => void;
  /** This engine's Alertmanager bookkeeping, when ALERTMANAGER_URLS is set. */
  alertmanager?: AlertmanagerOutbox;
}

/**
 * What an alert engine owes once its transitions are written: emergency
 * jobs, notifications (first, repeats, resolves), the `resolvedAt` of jobs
 * whose incident resolved, and Alertmanager's view. What fails stays owed
 * and is retried on the next dispatch; what succeeds comes back as marks
 * (outbox flags) for the engine to write, so a restart does not redo it.
 */
export class EngineOutbox {
  private resolvedToSend: AlertEvent[] = [];
  /** Emergency jobs owed a `resolvedAt` (their incident resolved): retried each tick until done. */
  private resolvedJobs: { incident: Incident; event: AlertEvent }[] = [];

  constructor(private readonly deps: OutboxDeps) {}

  /** Take note of what a written resolve owes: its notification and its job's `resolvedAt`. */
  resolved(t: Transition, e: AlertEvent): void {
    if (t.kind !== 'resolve') return;
    if (t.previous?.notified && !e.silenced) this.resolvedToSend.push(e);
    // Its job may be waiting for a worker: tell it (a job marked enqueued or
    // not, since a crash between the add and the mark leaves one unmarked).
    if (t.previous?.action && t.previous.firing.state === 'firing') {
      this.resolvedJobs.push({ incident: t.previous, event: e });
    }
  }

  /**
   * Send the jobs and notifications owed (for `only` these incidents, else
   * all); returns the outbox marks of what went out.
   */
  async dispatch(core: AlerterCore, now: number, only?: Incident[]): Promise<Transition[]> {
    const { emergencyQueue, redis, target, notifier, metrics, log } = this.deps;
    const box = core.outbox(now, only);
    const marks: Transition[] = [];
    const mark = (t: Transition | undefined): void => {
      if (t) marks.push(t);
    };
    for (const inc of box.jobs) {
      try {
        const outcome = await enqueueOnce(emergencyQueue, redis, target.pk, inc);
        mark(core.mark(inc, { jobEnqueued: true }));
        if (outcome === 'enqueued') metrics.jobs.inc({ name: inc.action ?? 'unknown' });
      } catch (err) {
        metrics.enqueueErrors.inc();
        this.deps.onError?.();
        log.warn({ err, incident: inc.firing.incidentId }, 'enqueue failed, will retry');
      }
    }
    await this.markResolvedJobs();
    if (!notifier.enabled) {
      this.resolvedToSend = [];
      return marks;
    }
    const send = async (kind: 'firing' | 'repeat', inc: Incident): Promise<void> => {
      try {
        await notifier.notify(kind, inc.firing, now);
        mark(core.mark(inc, { notifiedAt: now }));
      } catch (err) {
        metrics.notifyErrors.inc();
        this.deps.onError?.();
        log.warn({ err, incident: inc.firing.incidentId }, 'notify failed, will retry');
      }
    };
    for (const inc of box.notify) await send('firing', inc);
    for (const inc of box.repeat) await send('repeat', inc);
    const resolved = this.resolvedToSend;
    this.resolvedToSend = [];
    for (const e of resolved) {
      try {
        await notifier.notify('resolved', e);
      } catch (err) {
        metrics.notifyErrors.inc();
        this.deps.onError?.();
        this.resolvedToSend.push(e);
        log.warn({ err, incident: e.incidentId }, 'notify failed, will retry');
      }
    }
    return marks;
  }

  /**
   * Alertmanager (in the background, never awaited): on a tick every firing,
   * unsilenced, uninhibited incident (those due are re-sent); after a write
   * the incidents it fired (or released) and the firing incidents it
   * resolved. An inhibited incident is posted nothing, not even its resolve:
   * one posted before it was muted expires at the endsAt it was last sent
   * with, as an alert Prometheus stops sending does.
   */
  toAlertmanager(core: AlerterCore, now: number, written?: readonly Transition[]): void {
    const am = this.deps.alertmanager;
    if (!am) return;
    // One index of the firing sources for every incident asked about.
    const inhibition = core.inhibition();
    const live = (inc: Incident | undefined): inc is Incident =>
      inc?.firing.state === 'firing' &&
      !core.isSilenced(inc.firing, now) &&
      !core.isInhibited(inc.firing, inhibition);
    if (!written) {
      am.send(
        [...core.incidents.values()].filter(live).map((i) => i.firing),
        [],
        now,
        true,
      );
      return;
    }
    const firing = written.map((t) => t.incident).filter(live);
    const resolved = written.flatMap((t) =>
      t.kind === 'resolve' &&
      t.event &&
      !t.event.silenced &&
      !t.event.inhibitedBy &&
      t.previous?.firing.state === 'firing'
        ? [t.event]
        : [],
    );
    am.send(
      firing.map((i) => i.firing),
      resolved,
      now,
      false,
    );
  }

  /** The outbox of resolved incidents' jobs: one that fails stays for the next tick. */
  private async markResolvedJobs(): Promise<void> {
    const { emergencyQueue, log } = this.deps;
    const owed = this.resolvedJobs;
    this.resolvedJobs = [];
    for (const r of owed) {
      const incident = r.incident.firing.incidentId;
      try {
        const outcome = await markResolved(emergencyQueue, r.incident, r.event);
        log.info({ incident, outcome }, `emergency job after resolve: ${outcome}`);
      } catch (err) {
        this.deps.metrics.enqueueErrors.inc();
        this.deps.onError?.();
        this.resolvedJobs.push(r);
        log.warn({ err, incident }, 'marking the emergency job resolved failed, will retry');
      }
    }
  }
}
