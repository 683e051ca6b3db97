import type { Acknowledgement, AlertEvent, InhibitedBy, Silence, Subject } from '@quantmon/shared';
import {
  entryTime,
  firedEvent,
  flapEvent,
  incidentKey,
  openEvent,
  resolvedEvent,
  withFlapping,
  type Incident,
} from './incident.js';
import { FlapDetector } from './flap-detector.js';
import { forgottenEvent, RETIRED_RULE, retiredEvent, type ForgetReason } from './forget-subject.js';
import { Forecaster } from './forecast.js';
import { inhibitEvent, inhibitor, matches, sameInhibitor, withInhibitor } from './inhibition.js';
import { naturalSubject, type RuleInput } from './metric-source.js';
import { noDataAfter, noDataEvent } from './no-data.js';
import {
  breaches,
  effectiveRule,
  incidentSubject,
  matchesTags,
  NO_DATA_RULE,
  ruleForIncident,
  stillBreaching,
  worstOf,
  type CompiledRule,
  type EffectiveRule,
  type RuleSet,
  type SubjectTags,
} from './rules.js';
import { SilenceSet } from './silences.js';
import { StartupGrace } from './startup-grace.js';

export interface Transition {
  /** open: a new incident (pending or firing); fire: pending -> firing; resolve; update: same state, new facts. */
  kind: 'open' | 'fire' | 'resolve' | 'update';
  /** Field of the incidents hash. */
  key: string;
  /** The incident id the hash must hold for this write to apply; null: no incident there. */
  expect: string | null;
  /** The incident after the transition; undefined once closed. */
  incident: Incident | undefined;
  /** The incident before it (a resolve's notification needs to know it was notified). */
  previous: Incident | undefined;
  /** The event for the alerts stream; undefined for silent bookkeeping (outbox flags). */
  event: AlertEvent | undefined;
}

export interface Outbox {
  /** Firing critical incidents whose emergency job is not confirmed. */
  jobs: Incident[];
  /** Firing incidents whose receivers have not been notified. */
  notify: Incident[];
  /** Firing, notified, unacknowledged incidents due a repeat notification. */
  repeat: Incident[];
}

/**
 * The alerter's pure core: rule evaluation and the incident lifecycle, one
 * incident per rule and subject (pending -> firing -> resolved, a resolve
 * held for the rule's keepFiringFor), flap detection, no-data detection,
 * acknowledgement and silences. No I/O: the caller persists the
 * transitions it returns (and re-syncs the maps from Redis when a write
 * fails or another alerter got there first). Re-observing an input yields no
 * new transition, so a redelivered entry is harmless.
 */
export class AlerterCore {
  private silenceSet = new SilenceSet();
  /** Rules on the `system` subject: latest value per host, the incident sees the worst. */
  private readonly fleet = new Map<string, Map<string, number>>();
  /**
   * The latest value judged for each pending incident, so tick() can fire it
   * when its `for` is up. In memory only: a pending incident this core has
   * not judged (after a restart or a failover) fires on its next observation.
   */
  private readonly pendingValues = new Map<string, number>();
  /**
   * The latest value judged clear for each firing incident waiting out its
   * keepFiringFor, so tick() can resolve it when the time is up. In memory
   * only, as pendingValues: an incident this core has not judged clear
   * resolves on its next observation.
   */
  private readonly clearValues = new Map<string, number>();
  /** The last checks of each rule and subject, for flap detection. */
  private readonly flaps = new FlapDetector();
  /** Forecast rules: the trend window of each rule on each subject. */
  private readonly trends = new Forecaster();
  /**
   * Each strategy's catalogue tags, from its latest score update: rules
   * judged on the timer (for, keepFiringFor, repeats) see the same tag
   * overrides as on a sample. In memory: refilled by the next update after
   * a restart.
   */
  private readonly tagsOf = new Map<string, SubjectTags>();
  private readonly grace = new StartupGrace();

  constructor(
    private ruleSet: RuleSet,
    private readonly minObservations: number,
    /** Open incidents by incidentKey(rule, subject). */
    readonly incidents: Map<string, Incident>,
    /** Subject -> time of its latest input (entry time), for no-data. */
    readonly lastSeen: Map<string, number>,
    /** When this alerter became active: silence before it is not counted against a subject. */
    readonly activeSince: number,
  ) {}

  get rules(): RuleSet {
    return this.ruleSet;
  }

  observe(input: RuleInput, entryId: string, now: number): Transition[] {
    const natural = naturalSubject(input);
    const t = entryTime(entryId);
    const out: Transition[] = [];
    const prev = this.lastSeen.get(natural);
    if ((prev ?? -1) < t) this.lastSeen.set(natural, t);
    const noDataKey = incidentKey(NO_DATA_RULE, natural);
    const noData = this.incidents.get(noDataKey);
    if (noData) out.push(this.close(noDataKey, noData, 0, now));
    const tags = input.kind === 'score' ? input.update.tags : undefined;
    if (tags) this.tagsOf.set(natural, tags);
    else this.tagsOf.delete(natural);
    for (const rule of this.ruleSet.rules) {
      if (rule.source !== input.kind) continue;
      if (rule.match && !matchesTags(rule, tags)) continue;
      const subject = incidentSubject(rule, natural);
      if (subject === undefined) continue;
      const eff = subject === 'system' ? rule.base : effectiveRule(rule, natural, tags);
      if (!eff) continue;
      // Start-up grace holds back new incidents only: an open one is still judged.
      const grace =
        rule.startupGraceMs > 0 && this.grace.inGrace(natural, prev, t, rule.startupGraceMs);
      if (grace && !this.incidents.has(incidentKey(rule.name, subject))) continue;
      const minObs = rule.minObservations ?? this.minObservations;
      let value = rule.read(input, minObs);
      if (value === undefined) continue;
      // A rate from too few operations is not judged (neither opens nor resolves).
      const volume = rule.minVolume > 0 ? rule.volume?.(input) : undefined;
      if (volume !== undefined && volume < rule.minVolume) continue;
      if (eff.forecast) {
        value = this.trends.project(incidentKey(rule.name, natural), eff.forecast, {
          entryId,
          value,
          ...pointOf(input),
        });
        if (value === undefined) continue;
      }
      if (subject === 'system') value = this.worstOfFleet(rule, natural, value);
      // A conflated update: judge the worst value its samples reached first,
      // then the latest, as two of its per-sample judgements would have been.
      const range = rule.span?.(input, minObs);
      const worst = range ? worstOf(eff, range) : value;
      // A strategy's tags label its incidents (a fleet-wide one has no single strategy's).
      const labels = subject === 'system' ? undefined : tags;
      if (worst !== value && (breaches(eff, worst) || stillBreaching(eff, worst))) {
        out.push(...this.step(eff, subject, worst, entryId, t, now, labels));
      }
      out.push(...this.step(eff, subject, value, entryId, t, now, labels));
    }
    return this.reinhibit(out, now);
  }

  /**
   * Timer work: pending incidents whose `for` is up fire on the alerter's
   * clock (a strategy that reports daily is not left pending until its next
   * sample), firing incidents clear for their keepFiringFor resolve, and
   * subjects silent too long raise no-data incidents.
   */
  tick(now: number): Transition[] {
    const out: Transition[] = [];
    for (const [key, cur] of [...this.incidents]) {
      const rule = ruleForIncident(
        this.ruleSet,
        cur.firing.rule,
        cur.firing.subject,
        this.tagsOf.get(cur.firing.subject),
      );
      if (!rule) continue;
      if (cur.firing.state === 'pending') {
        const value = this.pendingValues.get(key);
        if (value === undefined || !breaches(rule, value)) continue;
        if (now - cur.firing.startsAt >= rule.forMs)
          out.push(this.fire(key, cur, rule, value, now));
      } else if (cur.clearSince !== undefined) {
        const value = this.clearValues.get(key);
        if (value === undefined || stillBreaching(rule, value)) continue;
        if (now - cur.clearSince >= rule.keepFiringMs) out.push(this.close(key, cur, value, now));
      }
    }
    for (const [subject, seen] of this.lastSeen) {
      const after = noDataAfter(this.ruleSet.noData, subject);
      if (after <= 0) continue;
      const key = incidentKey(NO_DATA_RULE, subject);
      if (this.incidents.has(key)) continue;
      if (now - Math.max(seen, this.activeSince) < after) continue;
      const event = this.withSilence(
        noDataEvent(this.ruleSet.noData, subject, seen, after, now),
        now,
      );
      out.push(this.apply('open', key, null, { firing: event, jobEnqueued: false }, event));
    }
    return this.reinhibit(out, now);
  }

  /**
   * What the outbox owes: jobs, first notifications, repeats (silenced and
   * inhibited incidents owe nothing; flapping ones owe no repeat until they
   * settle). A released incident never notified owes what a fresh firing
   * does; one notified before it was muted resumes its repeat schedule.
   */
  outbox(now: number, only?: readonly Incident[]): Outbox {
    const out: Outbox = { jobs: [], notify: [], repeat: [] };
    const sources = this.sources();
    for (const inc of only ?? this.incidents.values()) {
      if (inc.firing.state !== 'firing' || this.silenceSet.match(inc.firing, now)) continue;
      if (this.inhibitorOf(inc.firing, sources)) continue;
      if (inc.action && !inc.jobEnqueued) out.jobs.push(inc);
      if (!inc.notified) out.notify.push(inc);
      else if (!inc.firing.acknowledged && inc.firing.flapping !== true) {
        const repeatMs = this.repeatFor(inc);
        if (repeatMs && now - (inc.lastNotifiedAt ?? 0) >= repeatMs) out.repeat.push(inc);
      }
    }
    return out;
  }

  /** Record outbox progress on the open incident (if it is still that incident). */
  mark(inc: Incident, change: { jobEnqueued?: true; notifiedAt?: number }): Transition | undefined {
    const key = incidentKey(inc.firing.rule, inc.firing.subject);
    const cur = this.incidents.get(key);
    if (!cur || cur.firing.incidentId !== inc.firing.incidentId) return undefined;
    const next: Incident = { ...cur };
    if (change.jobEnqueued) next.jobEnqueued = true;
    if (change.notifiedAt !== undefined) {
      next.notified = true;
      next.lastNotifiedAt = change.notifiedAt;
    }
    return this.apply('update', key, cur.firing.incidentId, next, undefined);
  }

  acknowledge(incidentId: string, ack: Acknowledgement, now: number): Transition | undefined {
    for (const [key, cur] of this.incidents) {
      if (cur.firing.incidentId !== incidentId) continue;
      const f = cur.firing;
      // Every acknowledgement is kept (older records carry only `acknowledged`);
      // a redelivered command adds nothing.
      const all = f.acknowledgements ?? (f.acknowledged ? [f.acknowledged] : []);
      if (all.some((a) => sameAck(a, ack))) return undefined;
      const event: AlertEvent = {
        ...f,
        acknowledged: ack,
        acknowledgements: [...all, ack],
        ts: now,
      };
      return this.apply('update', key, incidentId, { ...cur, firing: event }, event);
    }
    return undefined;
  }

  /**
   * New rules (hot reload): incidents of rules that no longer exist, and
   * no-data incidents of subjects no longer watched, resolve; the others are
   * re-evaluated against the new thresholds on their next observation.
   */
  setRules(ruleSet: RuleSet, now: number): Transition[] {
    this.ruleSet = ruleSet;
    this.fleet.clear();
    const names = new Set(ruleSet.rules.map((r) => r.name));
    const out: Transition[] = [];
    for (const [key, inc] of [...this.incidents]) {
      const rule = inc.firing.rule;
      const gone =
        rule === NO_DATA_RULE
          ? noDataAfter(ruleSet.noData, inc.firing.subject) <= 0
          : !names.has(rule);
      if (gone) out.push(this.close(key, inc, inc.firing.value, now));
    }
    this.flaps.retain((key) => names.has(key.slice(0, key.indexOf('|'))));
    this.trends.retain((key) => names.has(key.slice(0, key.indexOf('|'))));
    return this.reinhibit(out, now, true);
  }

  /** Subjects whose latest input (entry time) is older than `cutoff`: idle ones a sweep forgets. */
  idleSubjects(cutoff: number): string[] {
    const out: string[] = [];
    for (const [subject, seen] of this.lastSeen) if (seen < cutoff) out.push(subject);
    return out;
  }

  /**
   * Forget subjects (idle past IDLE_FORGET_AFTER, or a retired strategy):
   * their open incidents close (resolved, saying why; a critical one's job
   * is marked resolved as for any resolve), and every trace of them leaves
   * the maps, so a later input starts as a new subject. A retirement also
   * records a `strategy_retired` event on the alerts stream.
   */
  forget(subjects: ReadonlySet<string>, why: ForgetReason, now: number): Transition[] {
    const out: Transition[] = [];
    for (const [key, cur] of [...this.incidents]) {
      if (!subjects.has(cur.firing.subject)) continue;
      const event = forgottenEvent(cur, why, now);
      out.push(this.apply('resolve', key, cur.firing.incidentId, undefined, event, cur));
    }
    for (const subject of subjects) {
      this.lastSeen.delete(subject);
      this.grace.forget(subject);
      for (const values of this.fleet.values()) values.delete(subject);
      if (why.kind === 'retired' && subject.startsWith('strategy/')) {
        const event = retiredEvent(subject, why.by, why.at, now);
        const key = incidentKey(RETIRED_RULE, subject);
        out.push({
          kind: 'update',
          key,
          expect: null,
          incident: undefined,
          previous: undefined,
          event,
        });
      }
    }
    this.flaps.retain((key) => !subjects.has(key.slice(key.indexOf('|') + 1)));
    this.trends.retain((key) => !subjects.has(key.slice(key.indexOf('|') + 1)));
    for (const subject of subjects) this.tagsOf.delete(subject);
    return this.reinhibit(out, now);
  }

  setSilences(silences: readonly Silence[]): void {
    this.silenceSet = new SilenceSet(silences);
  }

  isSilenced(event: AlertEvent, now: number): boolean {
    return this.silenceSet.match(event, now) !== undefined;
  }

  /** Whether a firing source incident inhibits this one now (judged live, as silences are). */
  isInhibited(event: AlertEvent): boolean {
    return this.inhibitorOf(event) !== undefined;
  }

  /** Take what Redis holds for a key (another alerter wrote first, or a write failed). */
  adopt(key: string, incident: Incident | undefined): void {
    if (incident) this.incidents.set(key, incident);
    else this.incidents.delete(key);
    if (incident?.firing.state !== 'pending') this.pendingValues.delete(key);
    if (incident?.clearSince === undefined) this.clearValues.delete(key);
  }

  /**
   * One judgement of a rule on a subject. The check counts towards flap
   * detection: bad is the condition as the incident's state sees it (past the
   * threshold to open or stay pending, past the clear threshold to stay
   * firing).
   */
  private step(
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
    const mark = (next: Incident): Transition[] =>
      this.revise(key, cur!, next, flap.flapping, flap.share, rule.flap.checks, value, now);
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
    if (!firing) {
      if (!bad) return [this.close(key, cur, value, now)];
      if (t - cur.firing.startsAt < rule.forMs) {
        this.pendingValues.set(key, value);
        return mark(cur);
      }
      return [this.fire(key, cur, rule, value, now, flap.flapping)];
    }
    if (bad) {
      if (cur.clearSince === undefined) return mark(cur);
      // Crossed back while waiting out keepFiringFor: the same incident, the clear timer stops.
      const next = { ...cur };
      delete next.clearSince;
      return mark(next);
    }
    const since = cur.clearSince ?? t;
    if (t - since >= rule.keepFiringMs) return [this.close(key, cur, value, now)];
    const out = mark(cur.clearSince === undefined ? { ...cur, clearSince: t } : cur);
    this.clearValues.set(key, value);
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

  private fire(
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

  private close(key: string, cur: Incident, value: number, now: number): Transition {
    const event = this.withSilence(resolvedEvent(cur, value, now), now);
    return this.apply('resolve', key, cur.firing.incidentId, undefined, event, cur);
  }

  private apply(
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

  /** Firing incidents that match the source of some inhibition rule. */
  private sources(): AlertEvent[] {
    const rules = this.ruleSet.inhibit;
    if (rules.length === 0) return [];
    const out: AlertEvent[] = [];
    for (const inc of this.incidents.values()) {
      const e = inc.firing;
      if (e.state === 'firing' && rules.some((r) => matches(r.source, e))) out.push(e);
    }
    return out;
  }

  private inhibitorOf(event: AlertEvent, sources = this.sources()): InhibitedBy | undefined {
    return inhibitor(this.ruleSet.inhibit, sources, event);
  }

  /**
   * Bring every open incident's inhibition mark up to date after a batch of
   * transitions (a source that fired or resolved, a target that opened). An
   * incident this batch opened or fired carries the mark on that event; any
   * other gets an update event saying it is muted, or released.
   */
  private reinhibit(out: Transition[], now: number, always = false): Transition[] {
    // Only an incident opening, firing or resolving can change a mark.
    if (!always && !out.some((t) => t.kind !== 'update')) return out;
    const sources = this.sources();
    for (const [key, cur] of [...this.incidents]) {
      const by = this.inhibitorOf(cur.firing, sources);
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

  private withSilence(event: AlertEvent, now: number): AlertEvent {
    const rest = { ...event };
    delete rest.silenced;
    const s = this.silenceSet.match(rest, now);
    return s ? { ...rest, silenced: { id: s.id, endsAt: s.endsAt } } : rest;
  }

  private worstOfFleet(rule: CompiledRule, host: string, value: number): number {
    let values = this.fleet.get(rule.name);
    if (!values) this.fleet.set(rule.name, (values = new Map()));
    values.set(host, value);
    const high = rule.base.comparison.startsWith('>');
    let worst = value;
    for (const v of values.values()) worst = high ? Math.max(worst, v) : Math.min(worst, v);
    return worst;
  }

  private repeatFor(inc: Incident): number | undefined {
    const { rule, subject } = inc.firing;
    return ruleForIncident(this.ruleSet, rule, subject, this.tagsOf.get(subject))?.repeatMs;
  }
}

/** Where an input sits on a forecast's axes: its sample time and how many samples it covers. */
function pointOf(input: RuleInput): { ts: number; samples: number } {
  return input.kind === 'score'
    ? { ts: input.update.ts, samples: input.update.span?.samples ?? 1 }
    : { ts: input.sample.ts, samples: 1 };
}

function sameAck(a: Acknowledgement, b: Acknowledgement): boolean {
  return a.by === b.by && a.at === b.at && a.comment === b.comment && a.tokenName === b.tokenName;
}
