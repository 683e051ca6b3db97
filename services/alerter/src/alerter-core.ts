import type { Acknowledgement, AlertEvent, Silence } from '@quantmon/shared';
import { entryTime, incidentKey, type Incident } from './incident.js';
import { IncidentLifecycle } from './incident-lifecycle.js';
import type { InhibitionIndex } from './inhibition.js';
import { forgottenEvent, RETIRED_RULE, retiredEvent, type ForgetReason } from './forget-subject.js';
import { Forecaster } from './forecast.js';
import { naturalSubject, type RuleInput } from './metric-source.js';
import { noDataAfter, noDataEvent } from './no-data.js';
import {
  breaches,
  effectiveRule,
  incidentSubject,
  matchesTags,
  ruleForIncident,
  stillBreaching,
  worstOf,
} from './effective-rule.js';
import { NO_DATA_RULE, type CompiledRule, type RuleSet, type SubjectTags } from './rule-model.js';
import { StartupGrace } from './startup-grace.js';
import type { Outbox, Transition } from './transition.js';

export type { Outbox, Transition };

/**
 * The alerter's pure core: rule evaluation and the incident lifecycle, one
 * incident per rule and subject (pending -> firing -> resolved, a resolve
 * held for the rule's keepFiringFor), flap detection, no-data detection,
 * acknowledgement and silences. This class decides what is judged and when;
 * each judgement's effect on an incident is incident-lifecycle.ts. No I/O:
 * the caller persists the transitions it returns (and re-syncs the maps
 * from Redis when a write fails or another alerter got there first).
 * Re-observing an input yields no new transition, so a redelivered entry is
 * harmless.
 */
export class AlerterCore {
  /** Rules on the `system` subject: latest value per host, the incident sees the worst. */
  private readonly fleet = new Map<string, Map<string, number>>();
  /** The incidents, their timers' values, and their flapping, silence and inhibition marks. */
  private readonly life: IncidentLifecycle;
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
  ) {
    this.life = new IncidentLifecycle(incidents, () => this.ruleSet.inhibit);
  }

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
    if (noData) out.push(this.life.close(noDataKey, noData, 0, now));
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
        out.push(...this.life.step(eff, subject, worst, entryId, t, now, labels));
      }
      out.push(...this.life.step(eff, subject, value, entryId, t, now, labels));
    }
    return this.life.reinhibit(out, now);
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
        const value = this.life.pendingValues.get(key);
        if (value === undefined || !breaches(rule, value)) continue;
        if (now - cur.firing.startsAt >= rule.forMs)
          out.push(this.life.fire(key, cur, rule, value, now));
      } else if (cur.clearSince !== undefined) {
        const value = this.life.clearValues.get(key);
        if (value === undefined || stillBreaching(rule, value)) continue;
        if (now - cur.clearSince >= rule.keepFiringMs)
          out.push(this.life.close(key, cur, value, now));
      }
    }
    for (const [subject, seen] of this.lastSeen) {
      const after = noDataAfter(this.ruleSet.noData, subject);
      if (after <= 0) continue;
      const key = incidentKey(NO_DATA_RULE, subject);
      if (this.incidents.has(key)) continue;
      if (now - Math.max(seen, this.activeSince) < after) continue;
      const event = this.life.withSilence(
        noDataEvent(this.ruleSet.noData, subject, seen, after, now),
        now,
      );
      out.push(this.life.apply('open', key, null, { firing: event, jobEnqueued: false }, event));
    }
    return this.life.reinhibit(out, now);
  }

  /**
   * What the outbox owes: jobs, first notifications, repeats (silenced and
   * inhibited incidents owe nothing; flapping ones owe no repeat until they
   * settle). A released incident never notified owes what a fresh firing
   * does; one notified before it was muted resumes its repeat schedule.
   */
  outbox(now: number, only?: readonly Incident[]): Outbox {
    const out: Outbox = { jobs: [], notify: [], repeat: [] };
    const index = this.life.inhibition();
    for (const inc of only ?? this.incidents.values()) {
      if (inc.firing.state !== 'firing' || this.life.silenceOf(inc.firing, now)) continue;
      if (index.inhibitorOf(inc.firing)) continue;
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
    return this.life.apply('update', key, cur.firing.incidentId, next, undefined);
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
      return this.life.apply('update', key, incidentId, { ...cur, firing: event }, event);
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
      if (gone) out.push(this.life.close(key, inc, inc.firing.value, now));
    }
    this.life.flaps.retain((key) => names.has(key.slice(0, key.indexOf('|'))));
    this.trends.retain((key) => names.has(key.slice(0, key.indexOf('|'))));
    return this.life.reinhibit(out, now, true);
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
      out.push(this.life.apply('resolve', key, cur.firing.incidentId, undefined, event, cur));
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
    this.life.flaps.retain((key) => !subjects.has(key.slice(key.indexOf('|') + 1)));
    this.trends.retain((key) => !subjects.has(key.slice(key.indexOf('|') + 1)));
    for (const subject of subjects) this.tagsOf.delete(subject);
    return this.life.reinhibit(out, now);
  }

  setSilences(silences: readonly Silence[]): void {
    this.life.setSilences(silences);
  }

  isSilenced(event: AlertEvent, now: number): boolean {
    return this.life.silenceOf(event, now) !== undefined;
  }

  /**
   * Whether a firing source incident inhibits this one now (judged live, as
   * silences are). Asking for many: pass one `inhibition()` to each call.
   */
  isInhibited(event: AlertEvent, index = this.life.inhibition()): boolean {
    return index.inhibitorOf(event) !== undefined;
  }

  /** The inhibition sources firing now, indexed once for many `isInhibited` questions. */
  inhibition(): InhibitionIndex {
    return this.life.inhibition();
  }

  /** Take what Redis holds for a key (another alerter wrote first, or a write failed). */
  adopt(key: string, incident: Incident | undefined): void {
    this.life.adopt(key, incident);
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
