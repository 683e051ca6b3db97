import {
  AlertCommand,
  readJsonHash,
  Silence,
  type Keys,
  type Logger,
  type StreamPosition,
} from '@quantmon/shared';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { AlerterCore, type Transition } from './alerter-core.js';
import { enqueueOnce, markResolved } from './emergency.js';
import type { ForgetPlan } from './forget-plan.js';
import type { Incident } from './incident.js';
import {
  loadIncidents,
  loadLastSeen,
  saveLastSeen,
  writeTransitions,
  type FencedTarget,
} from './incident-store.js';
import type { RuleInput } from './metric-source.js';
import type { AlertmanagerOutbox } from './notifier/alertmanager.js';
import type { Notifier } from './notifier/notifier.js';
import type { RuleSet } from './rules.js';
import type { AlertEvent } from '@quantmon/shared';

export interface EngineMetrics {
  events: Counter<'rule' | 'state'>;
  jobs: Counter<'name'>;
  enqueueErrors: Counter;
  notifyErrors: Counter;
  conflicts: Counter;
}

export interface EngineDeps {
  redis: Redis;
  /** Global keys (silences). */
  keys: Keys;
  /** The partition this engine owns for one term, and the lease fencing its writes. */
  target: FencedTarget;
  log: Logger;
  emergencyQueue: Queue;
  notifier: Notifier;
  minObservations: number;
  metrics: EngineMetrics;
  /** A failed enqueue or notification: counted in the pipeline's error rate. */
  onError?: () => void;
  /** This engine's Alertmanager bookkeeping, when ALERTMANAGER_URLS is set. */
  alertmanager?: AlertmanagerOutbox;
}

/** Expired silences are kept this long for GET /api/silences, then pruned. */
const SILENCE_RETENTION_MS = 24 * 3_600_000;

/**
 * The alerter's adapter around the pure core, for one term of ownership of
 * one partition (its strategies and hosts):
 * loads state from Redis, applies inputs, commands and timer ticks one at a
 * time (so each compare-and-set write sees the state it was computed from),
 * writes transitions, and runs the outbox (emergency jobs, notifications).
 * A failed write marks the in-memory state dirty: it is reloaded from Redis
 * before the next step, and the consumer group redelivers the batch, so an
 * outage neither loses nor doubles an incident.
 */
export class AlertEngine {
  private core: AlerterCore | undefined;
  private serial: Promise<unknown> = Promise.resolve();
  private dirty = false;
  private readonly seen = new Map<string, number>();
  private resolvedToSend: AlertEvent[] = [];
  /** Emergency jobs owed a `resolvedAt` (their incident resolved): retried each tick until done. */
  private resolvedJobs: { incident: Incident; event: AlertEvent }[] = [];
  private lastSilenceLoad = 0;

  constructor(
    private readonly deps: EngineDeps,
    private ruleSet: RuleSet,
  ) {}

  get openIncidents(): number {
    return this.core?.incidents.size ?? 0;
  }

  /** Subjects (strategies and hosts) this term keeps a last-seen time for. */
  get trackedSubjects(): number {
    return this.core?.lastSeen.size ?? 0;
  }

  /**
   * Forget subjects, in turn with inputs: `plan` picks them (idle, retired:
   * forget-plan.ts), their incidents close through the usual fenced write,
   * then `plan.done` drops their traces in Redis.
   */
  forget(plan: ForgetPlan): Promise<void> {
    return this.run(async (core, now) => {
      for (const batch of await plan.pick(core, now)) {
        const seen = [...batch.subjects].map((s) => [s, core.lastSeen.get(s)] as const);
        const ts = core.forget(batch.subjects, batch.why, now);
        try {
          await this.commit(core, ts, now);
        } catch (err) {
          // Not written (the incidents re-sync from Redis): keep the clocks so the next sweep retries.
          for (const [s, t] of seen) if (t !== undefined) core.lastSeen.set(s, t);
          throw err;
        }
        for (const s of batch.subjects) this.seen.delete(s);
        await plan.done(batch);
      }
    });
  }

  /** Begin a term: state from Redis. */
  async start(now: number): Promise<void> {
    const { redis, target, log } = this.deps;
    const [incidents, lastSeen] = await Promise.all([
      loadIncidents(redis, target.pk, log),
      loadLastSeen(redis, target.pk),
    ]);
    this.core = new AlerterCore(this.ruleSet, this.deps.minObservations, incidents, lastSeen, now);
    this.dirty = false;
    await this.loadSilences(now);
    log.debug({ openIncidents: incidents.size, subjects: lastSeen.size }, 'alerter state loaded');
  }

  /** End a term: finish what is in flight. */
  async stop(): Promise<void> {
    await this.serial.catch(() => undefined);
    await this.flushSeen().catch(() => undefined);
    this.core = undefined;
  }

  /** Apply a read's inputs; their transitions and the group positions are written in one fenced step. */
  observe(
    batch: readonly { id: string; input: RuleInput }[],
    positions: readonly StreamPosition[] = [],
  ): Promise<void> {
    return this.run(async (core, now) => {
      const ts: Transition[] = [];
      for (const { id, input } of batch) {
        ts.push(...core.observe(input, id, now));
        const subject =
          input.kind === 'score'
            ? `strategy/${input.update.strategy}`
            : `host/${input.sample.host}`;
        const t = core.lastSeen.get(subject);
        if (t !== undefined) this.seen.set(subject, t);
      }
      await this.commit(core, ts, now, positions);
    });
  }

  commands(cmds: readonly AlertCommand[]): Promise<void> {
    return this.run(async (core, now) => {
      const ts: Transition[] = [];
      let silences = false;
      for (const c of cmds) {
        if (c.type === 'silences-changed') silences = true;
        else {
          const t = core.acknowledge(c.incidentId, c.ack, now);
          if (t) ts.push(t);
          // Every partition reads every command: most acks are another partition's.
          else this.deps.log.debug({ incident: c.incidentId }, 'ack for no open incident here');
        }
      }
      if (silences) await this.loadSilences(now);
      await this.commit(core, ts, now);
      if (silences) await this.dispatch(core, now);
    });
  }

  /** Timer: no-data, repeats, outbox retries, silences refresh, last-seen persistence. */
  tick(): Promise<void> {
    return this.run(async (core, now) => {
      if (now - this.lastSilenceLoad >= 10_000) await this.loadSilences(now);
      await this.commit(core, core.tick(now), now);
      await this.dispatch(core, now);
      this.toAlertmanager(core, now);
      await this.flushSeen();
    });
  }

  /** Hot reload. Outside a term only the rules are kept for the next one. */
  setRules(ruleSet: RuleSet): Promise<void> {
    this.ruleSet = ruleSet;
    return this.run((core, now) => this.commit(core, core.setRules(ruleSet, now), now));
  }

  private run(step: (core: AlerterCore, now: number) => Promise<void>): Promise<void> {
    const next = this.serial.then(async () => {
      const core = this.core;
      if (!core) return;
      if (this.dirty) await this.resync(core);
      await step(core, Date.now());
    });
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async resync(core: AlerterCore): Promise<void> {
    const fresh = await loadIncidents(this.deps.redis, this.deps.target.pk, this.deps.log);
    core.incidents.clear();
    for (const [k, v] of fresh) core.incidents.set(k, v);
    this.dirty = false;
    this.deps.log.info({ openIncidents: fresh.size }, 're-synced incidents from Redis');
  }

  private async write(
    core: AlerterCore,
    ts: readonly Transition[],
    positions: readonly StreamPosition[] = [],
  ): Promise<Transition[]> {
    if (ts.length === 0 && positions.length === 0) return [];
    let conflicts;
    try {
      conflicts = await writeTransitions(
        this.deps.redis,
        this.deps.target,
        ts,
        this.deps.log,
        positions,
      );
    } catch (err) {
      this.dirty = true;
      throw err;
    }
    const lost = new Set<Transition>();
    for (const c of conflicts) {
      lost.add(c.transition);
      core.adopt(c.transition.key, c.current);
      this.deps.metrics.conflicts.inc();
      this.deps.log.info(
        { key: c.transition.key, adopted: c.current?.firing.incidentId ?? null },
        'another alerter changed this incident first: adopted its state',
      );
    }
    return ts.filter((t) => !lost.has(t));
  }

  private async commit(
    core: AlerterCore,
    ts: readonly Transition[],
    now: number,
    positions: readonly StreamPosition[] = [],
  ): Promise<void> {
    const written = await this.write(core, ts, positions);
    if (written.length === 0) return;
    const touched: Incident[] = [];
    for (const t of written) {
      if (t.incident) touched.push(t.incident);
      const e = t.event;
      if (!e) continue;
      this.deps.metrics.events.inc({ rule: e.rule, state: e.state });
      this.deps.log.info(
        {
          incident: e.incidentId,
          state: e.state,
          value: e.value,
          silenced: e.silenced?.id,
          inhibitedBy: e.inhibitedBy?.incidentId,
        },
        e.message,
      );
      if (t.kind === 'resolve' && t.previous?.notified && !e.silenced) this.resolvedToSend.push(e);
      // Its job may be waiting for a worker: tell it (a job marked enqueued or
      // not, since a crash between the add and the mark leaves one unmarked).
      if (t.kind === 'resolve' && t.previous?.action && t.previous.firing.state === 'firing') {
        this.resolvedJobs.push({ incident: t.previous, event: e });
      }
    }
    this.toAlertmanager(core, now, written);
    await this.dispatch(core, now, touched);
  }

  /** The outbox: jobs and notifications owed (for `only` these incidents, else all). */
  private async dispatch(core: AlerterCore, now: number, only?: Incident[]): Promise<void> {
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
        log.warn(
          { err: (err as Error).message, incident: inc.firing.incidentId },
          'enqueue failed, will retry',
        );
      }
    }
    await this.markResolvedJobs();
    if (notifier.enabled) {
      const send = async (kind: 'firing' | 'repeat', inc: Incident): Promise<void> => {
        try {
          await notifier.notify(kind, inc.firing, now);
          mark(core.mark(inc, { notifiedAt: now }));
        } catch (err) {
          metrics.notifyErrors.inc();
          this.deps.onError?.();
          log.warn(
            { err: (err as Error).message, incident: inc.firing.incidentId },
            'notify failed, will retry',
          );
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
          log.warn(
            { err: (err as Error).message, incident: e.incidentId },
            'notify failed, will retry',
          );
        }
      }
    } else {
      this.resolvedToSend = [];
    }
    try {
      await this.write(core, marks);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'outbox marks not written, will retry');
    }
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

  /**
   * Alertmanager (in the background, never awaited): on a tick every firing,
   * unsilenced, uninhibited incident (those due are re-sent); after a write
   * the incidents it fired (or released) and the firing incidents it
   * resolved. An inhibited incident is posted nothing, not even its resolve:
   * one posted before it was muted expires at the endsAt it was last sent
   * with, as an alert Prometheus stops sending does.
   */
  private toAlertmanager(core: AlerterCore, now: number, written?: readonly Transition[]): void {
    const am = this.deps.alertmanager;
    if (!am) return;
    const live = (inc: Incident | undefined): inc is Incident =>
      inc?.firing.state === 'firing' &&
      !core.isSilenced(inc.firing, now) &&
      !core.isInhibited(inc.firing);
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

  private async loadSilences(now: number): Promise<void> {
    const { redis, keys, log } = this.deps;
    const all = await readJsonHash(redis, keys.silences, Silence, (id) =>
      log.warn({ id }, 'ignoring unreadable silence'),
    );
    const list: Silence[] = [];
    const prune: string[] = [];
    for (const [id, s] of all) {
      if (s.endsAt < now - SILENCE_RETENTION_MS) prune.push(id);
      else list.push(s);
    }
    if (prune.length > 0) await redis.hdel(keys.silences, ...prune);
    this.core?.setSilences(list);
    this.lastSilenceLoad = now;
  }

  private async flushSeen(): Promise<void> {
    if (this.seen.size === 0) return;
    const batch = new Map(this.seen);
    this.seen.clear();
    try {
      await saveLastSeen(this.deps.redis, this.deps.target.pk, batch);
    } catch (err) {
      for (const [s, t] of batch) if ((this.seen.get(s) ?? -1) < t) this.seen.set(s, t);
      throw err;
    }
  }
}
