import {
  AlertCommand,
  readJsonHash,
  Silence,
  type Keys,
  type StreamPosition,
} from '@quantmon/shared';
import { AlerterCore, type Transition } from './alerter-core.js';
import { EngineOutbox, type OutboxDeps } from './engine-outbox.js';
import type { ForgetPlan } from './forget-plan.js';
import type { Incident } from './incident.js';
import { loadIncidents, loadLastSeen, saveLastSeen, writeTransitions } from './incident-store.js';
import type { RuleInput } from './metric-source.js';
import type { RuleSet } from './rules.js';

export type { EngineMetrics } from './engine-outbox.js';

export interface EngineDeps extends OutboxDeps {
  /** Global keys (silences). */
  keys: Keys;
  minObservations: number;
}

/**
 * A read that moves no incident commits its stream positions at most this
 * late (with the next write that has transitions, the next read after this
 * long, or the next tick). Under a steady flow every partition's reader
 * wakes up to 50 times a second (the scorer's read beat); a fenced commit
 * per wake was a Redis round trip and script for no state change. A crash
 * before the commit re-reads at most this much, which moved nothing.
 */
export const POSITION_COMMIT_MS = 200;

/** Expired silences are kept this long for GET /api/silences, then pruned. */
const SILENCE_RETENTION_MS = 24 * 3_600_000;

/**
 * The alerter's adapter around the pure core, for one term of ownership of
 * one partition (its strategies and hosts):
 * loads state from Redis, applies inputs, commands and timer ticks one at a
 * time (so each compare-and-set write sees the state it was computed from),
 * writes transitions, and runs the outbox (engine-outbox.ts: emergency jobs,
 * notifications).
 * A failed write marks the in-memory state dirty: it is reloaded from Redis
 * before the next step, and the consumer group redelivers the batch, so an
 * outage neither loses nor doubles an incident.
 */
export class AlertEngine {
  private core: AlerterCore | undefined;
  private serial: Promise<unknown> = Promise.resolve();
  private dirty = false;
  private readonly seen = new Map<string, number>();
  private readonly outbox: EngineOutbox;
  private lastSilenceLoad = 0;
  /** Positions read past but not yet committed (reads that moved nothing), by stream. */
  private pending = new Map<string, StreamPosition>();
  /** When the oldest of them was read. */
  private pendingSince = 0;

  constructor(
    private readonly deps: EngineDeps,
    private ruleSet: RuleSet,
  ) {
    this.outbox = new EngineOutbox(deps);
  }

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
    // Positions read past: committed if the lease still holds (fenced), else re-read by the next owner.
    if (this.core && this.pending.size > 0) {
      await this.write(this.core, [], []).catch(() => undefined);
    }
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
      if (ts.length === 0 && this.defer(positions, now)) return;
      await this.commit(core, ts, now, positions);
    });
  }

  /** Keep a read's positions for a later commit, unless they are due; true when kept. */
  private defer(positions: readonly StreamPosition[], now: number): boolean {
    if (positions.length === 0) return true;
    if (this.pending.size === 0) this.pendingSince = now;
    else if (now - this.pendingSince >= POSITION_COMMIT_MS) return false;
    this.merge(positions);
    return true;
  }

  /** Fold positions into the pending ones: each stream keeps the committed `from`. */
  private merge(positions: readonly StreamPosition[]): void {
    for (const p of positions) {
      const held = this.pending.get(p.key);
      this.pending.set(p.key, held ? { ...p, from: held.from } : p);
    }
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
      const due = this.pending.size > 0 && now - this.pendingSince >= POSITION_COMMIT_MS;
      await this.commit(core, core.tick(now), now, due ? [] : undefined);
      await this.dispatch(core, now);
      this.outbox.toAlertmanager(core, now);
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

  /**
   * Write transitions, fenced, with the stream positions: `positions`
   * undefined writes none (outbox marks, commands); an array (even empty)
   * also commits every pending position.
   */
  private async write(
    core: AlerterCore,
    ts: readonly Transition[],
    positions?: readonly StreamPosition[],
  ): Promise<Transition[]> {
    let all: StreamPosition[] = [];
    if (positions) {
      this.merge(positions);
      all = [...this.pending.values()];
    }
    if (ts.length === 0 && all.length === 0) return [];
    let conflicts;
    try {
      conflicts = await writeTransitions(this.deps.redis, this.deps.target, ts, this.deps.log, all);
    } catch (err) {
      this.dirty = true;
      // Dropped: Redis may no longer stand where they start (a failover
      // lost the last commit). A failed read starts again from where Redis
      // stands; after a failed tick, the next commit of the reader's
      // positions is refused and does the same. Either way nothing is lost.
      if (positions) this.pending.clear();
      throw err;
    }
    if (positions) this.pending.clear();
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
    positions?: readonly StreamPosition[],
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
      this.outbox.resolved(t, e);
    }
    this.outbox.toAlertmanager(core, now, written);
    await this.dispatch(core, now, touched);
  }

  /** The outbox: jobs and notifications owed (for `only` these incidents, else all). */
  private async dispatch(core: AlerterCore, now: number, only?: Incident[]): Promise<void> {
    const marks = await this.outbox.dispatch(core, now, only);
    try {
      await this.write(core, marks);
    } catch (err) {
      this.deps.log.warn({ err }, 'outbox marks not written, will retry');
    }
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
