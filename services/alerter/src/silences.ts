import {
  compileSilenceRegex,
  type AlertEvent,
  type Silence,
  type SilenceMatcher,
  type SilenceRegex,
} from '@quantmon/shared';

/** The labels a silence matches against: rule, subject, level, metric and the rule's labels. */
export function eventLabels(e: AlertEvent): Record<string, string> {
  return { ...e.labels, rule: e.rule, subject: e.subject, level: e.level, metric: e.metric };
}

/** Stands for a pattern RE2 refuses (written before validation used RE2): it matches nothing. */
const NEVER: SilenceRegex = { test: () => false };

/**
 * Active silences, with their regular expressions compiled once, by RE2
 * (linear time: a hostile pattern cannot stall the alerter). Pure: the
 * alerter hands it the silences hash whenever the gateway changes it.
 */
export class SilenceSet {
  private readonly regex = new Map<string, SilenceRegex>();

  constructor(readonly silences: readonly Silence[] = []) {}

  /** The silence muting this event at `now` (the one ending last), if any. */
  match(e: AlertEvent, now: number): Silence | undefined {
    let best: Silence | undefined;
    let labels: Record<string, string> | undefined;
    for (const s of this.silences) {
      if (now < s.startsAt || now >= s.endsAt) continue;
      labels ??= eventLabels(e);
      if (s.matchers.every((m) => this.matches(m, labels?.[m.name] ?? ''))) {
        if (!best || s.endsAt > best.endsAt) best = s;
      }
    }
    return best;
  }

  private matches(m: SilenceMatcher, value: string): boolean {
    switch (m.op) {
      case '=':
        return value === m.value;
      case '!=':
        return value !== m.value;
      case '=~':
        return this.re(m.value).test(value);
      case '!~':
        return !this.re(m.value).test(value);
    }
  }

  /**
   * The gateway refuses patterns RE2 cannot compile or over the length
   * limit; one stored before that rule matches nothing, so `=~` never
   * silences on it and `!~` always holds.
   */
  private re(src: string): SilenceRegex {
    let r = this.regex.get(src);
    if (!r) {
      try {
        r = compileSilenceRegex(src);
      } catch {
        r = NEVER;
      }
      this.regex.set(src, r);
    }
    return r;
  }
}
