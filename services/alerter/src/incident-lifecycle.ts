import type { AlertEvent, Silence, Subject } from '@quantmon/shared';
import { FlapDetector } from './flap-detector.js';
import {
  firedEvent,
  flapEvent,
  incidentKey,
  openEvent,
  resolvedEvent,
  withFlapping,
  type Incident,
} from './incident.js';
import { InhibitionIndex, inhibitEvent, sameInhibitor, withInhibitor } from './inhibition.js';
import { breaches, stillBreaching } from './effective-rule.js';
import type { EffectiveRule, SubjectTags } from './rule-model.js';
import type { InhibitRule } from './rule-spec.js';
import { SilenceSet } from './silences.js';
import type { Transition } from './transition.js';

/**
 * The incidents of one alerter core through their life, one per rule and
 * subject: pending -> firing -> resolved (a resolve held for the rule's
 * keepFiringFor), with their flapping, silence and inhibition marks. Every
 * change goes through apply(), which keeps the incidents map and the values
 * the timers judge in step and returns the transition to persist. Pure: the
 * core (alerter-core.ts) decides what to judge and when.
 */
export class IncidentLifecycle {
  private silenceSet = new SilenceSet();
  /**
   * The latest value judged for each pending incident, so the core's tick can
   * fire it when its `for` is up. In memory only: a pending incident this core
   * has not judged (after a restart or a failover) fires on its next observation.
   */
  readonly pendingValues = new Map<string, number>();
  /**
   * The latest value judged clear for each firing incident waiting out its
   * keepFiringFor, so the tick can resolve it when the time is up. In memory
   * only, as pendingValues: an incident this core has not judged clear
   * resolves on its next observation.
   */
  readonly clearValues = new Map<string, number>();
  /** The last checks of each rule and subject, for flap detection. */
  readonly flaps = new FlapDetector();

  constructor(
    /** Open incidents by incidentKey(rule, subject). */
    readonly incidents: Map<string, Incident>,
    /** The inhibition rules in force (they change with the rules). */
    private readonly inhibitRules: () => readonly InhibitRule[],
  ) {}

  /**
   * One judgement of a rule on a subject. The check counts towards flap
   * detection: bad is the condition as the incident's state sees it (past the
   * threshold to open or stay pending, past the clear threshold to stay
   * firing).
   */
  step(
    rule: EffectiveRule,
    subject: Subject,
    value: number,
    stamp: string,
    t: number,
    now: number,
    tags?: SubjectTags,
  ): Transition[] {
    const key = incidentKey(rule.name, subject);
    const cur = this.incidents.get(key);
    const firing = cur?.firing.state === 'firing';
    const bad = firing ? stillBreaching(rule, value) : breaches(rule, value);
    const flap = this.flaps.record(key, bad, rule.flap, t, cur?.firing.flapping === true);
    if (!cur) {
      if (!bad) return [];
      const state = rule.forMs > 0 ? 'pending' : 'firing';
      const opening = withFlapping(
        openEvent(rule, subject, value, stamp, t, now, state, tags),
        flap.flapping,
      );
      const event = this.withSilence(opening, now);
      const action = rule.level === 'critical' ? rule.action : undefined;
      const inc: Incident = { firing: event, jobEnqueued: false, ...(action ? { action } : {}) };
      const opened = this.apply('open', key, null, inc, event);
      if (state === 'pending') this.pendingValues.set(key, value);
      return [opened];
    }
    // The incident stays: what it becomes, revised in one place below (no
    // closure per call: step runs per rule per update, and under npm start
    // tsx names every closure it makes, ~3 % of the alerter's CPU).
    let next: Incident;
    let clearing = false;
    if (!firing) {
      if (!bad) return [this.close(key, cur, value, now)];
      if (t - cur.firing.startsAt >= rule.forMs) {
        return [this.fire(key, cur, rule, value, now, flap.flapping)];
      }
      this.pendingValues.set(key, value);
      next = cur;
    } else if (bad) {
      // Crossed back while waiting out keepFiringFor: the same incident, the clear timer stops.
      next = cur;
      if (cur.clearSince !== undefined) {
        next = { ...cur };
        delete next.clearSince;
      }
    } else {
      const since = cur.clearSince ?? t;
      if (t - since >= rule.keepFiringMs) return [this.close(key, cur, value, now)];
      next = cur.clearSince === undefined ? { ...cur, clearSince: t } : cur;
      clearing = true;
    }
    const out = this.revise(
      key,
      cur,
      next,
      flap.flapping,
      flap.share,
      rule.flap.checks,
      value,
      now,
    );
    if (clearing) this.clearValues.set(key, value);
    return out;
  }

  fire(
    key: string,
    cur: Incident,
    rule: EffectiveRule,
    value: number,
    now: number,
    flapping = cur.firing.flapping === true,
  ): Transition {
    const fired = withFlapping(firedEvent(cur.firing, rule, value, now), flapping);
    const event = this.withSilence(fired, now);
    return this.apply('fire', key, cur.firing.incidentId, { ...cur, firing: event }, event);
  }

  close(key: string, cur: Incident, value: number, now: number): Transition {
    const event = this.withSilence(resolvedEvent(cur, value, now), now);
    return this.apply('resolve', key, cur.firing.incidentId, undefined, event, cur);
  }

  apply(
    kind: Transition['kind'],
    key: string,
    expect: string | null,
    incident: Incident | undefined,
    event: AlertEvent | undefined,
    previous?: Incident,
  ): Transition {
    const before = previous ?? this.incidents.get(key);
    this.adopt(key, incident);
    return { kind, key, expect, incident, previous: before, event };
  }

  /** Take what Redis holds for a key (another alerter wrote first, or a write failed). */
  adopt(key: string, incident: Incident | undefined): void {
    if (incident) this.incidents.set(key, incident);
    else this.incidents.delete(key);
    if (incident?.firing.state !== 'pending') this.pendingValues.delete(key);
    if (incident?.clearSince === undefined) this.clearValues.delete(key);
  }

  setSilences(silences: readonly Silence[]): void {
    this.silenceSet = new SilenceSet(silences);
  }

  silenceOf(event: AlertEvent, now: number): Silence | undefined {
    return this.silenceSet.match(event, now);
  }

  /** The event with its silence mark as the silences in force say. */
  withSilence(event: AlertEvent, now: number): AlertEvent {
    const rest = { ...event };
    delete rest.silenced;
    const s = this.silenceSet.match(rest, now);
    return s ? { ...rest, silenced: { id: s.id, endsAt: s.endsAt } } : rest;
  }

  /** The inhibition sources firing now, indexed: build one per pass over the incidents. */
  inhibition(): InhibitionIndex {
    const events = Array.from(this.incidents.values(), (inc) => inc.firing);
    return new InhibitionIndex(this.inhibitRules(), events);
  }

  /**
   * Bring every open incident's inhibition mark up to date after a batch of
   * transitions (a source that fired or resolved, a target that opened). An
   * incident this batch opened or fired carries the mark on that event; any
   * other gets an update event saying it is muted, or released.
   */
  reinhibit(out: Transition[], now: number, always = false): Transition[] {
    // Only an incident opening, firing or resolving can change a mark.
    if (!always && !out.some((t) => t.kind !== 'update')) return out;
    const index = this.inhibition();
    for (const [key, cur] of [...this.incidents]) {
      const by = index.inhibitorOf(cur.firing);
      if (sameInhibitor(by, cur.firing.inhibitedBy)) continue;
      const i = out.findLastIndex(
        (t) => t.key === key && t.incident === cur && (t.kind === 'open' || t.kind === 'fire'),
      );
      const own = out[i];
      if (own) {
        const firing = withInhibitor(cur.firing, by);
        const next: Incident = { ...cur, firing };
        this.adopt(key, next);
        out[i] = { ...own, incident: next, event: firing };
        continue;
      }
      const event = inhibitEvent(cur.firing, by, now);
      out.push(this.apply('update', key, cur.firing.incidentId, { ...cur, firing: event }, event));
    }
    return out;
  }

  /**
   * Write `next` in place of `cur`: silent bookkeeping, or an update event
   * when the flapping mark changes; nothing when nothing changed.
   */
  private revise(
    key: string,
    cur: Incident,
    next: Incident,
    flapping: boolean,
    share: number,
    checks: number,
    value: number,
    now: number,
  ): Transition[] {
    const id = cur.firing.incidentId;
    if (flapping === (cur.firing.flapping === true)) {
      return next === cur ? [] : [this.apply('update', key, id, next, undefined)];
    }
    const event = this.withSilence(
      flapEvent(next.firing, flapping, share, checks, value, now),
      now,
    );
    return [this.apply('update', key, id, { ...next, firing: event }, event)];
  }
}
