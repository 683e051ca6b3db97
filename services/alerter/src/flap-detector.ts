/**
 * Flap detection as Nagios defines it: the state of each check (condition
 * bad or good) of a rule and subject is kept for the last `checks` checks;
 * the share of them that changed state, newer changes weighing more (from
 * 0.75 for the oldest change to 1.25 for the newest, as Nagios weighs them),
 * marks the incident flapping when it rises to `high` and clears the mark
 * when it falls to `low` or below (hysteresis, so the mark itself does not
 * flap). Pure; in memory only: after a restart the history starts again,
 * clean, and an incident's persisted mark holds until the new history
 * settles below `low`.
 */

/** A rule's flap detection; `checks` 0 turns it off. */
export interface FlapPolicy {
  /** How many checks are kept (Nagios: 21), at most 31. */
  checks: number;
  /** Weighted share of changes at or above which the incident is marked flapping. */
  high: number;
  /** Weighted share at or below which the mark is cleared. */
  low: number;
}

/** Nagios's defaults: 21 checks, flapping from 20 % of state changes, settled at 5 %. */
export const DEFAULT_FLAP: FlapPolicy = { checks: 21, high: 0.2, low: 0.05 };

export const MAX_FLAP_CHECKS = 31;

interface History {
  /** Bit k: the check k checks ago was bad (bit 0: the latest). */
  bits: number;
  flapping: boolean;
  /** Entry time of the latest check: a redelivered entry is not counted twice. */
  at: number;
}

/**
 * The weighted share of state changes among `checks` checks held in `bits`
 * (bit 0 the latest): change k (between checks k+1 and k) weighs from 1.25
 * (k = 0) down to 0.75 (the oldest), divided by the number of changes
 * possible (checks - 1).
 */
export function flapShare(bits: number, checks: number): number {
  if (checks < 3) return 0;
  let weighted = 0;
  for (let k = 0; k < checks - 1; k++) {
    if (((bits >>> k) & 1) !== ((bits >>> (k + 1)) & 1)) {
      weighted += 0.75 + (0.5 * (checks - 2 - k)) / (checks - 2);
    }
  }
  return weighted / (checks - 1);
}

/**
 * Per key (rule and subject), the last checks and whether it is flapping.
 * A key with no history is taken as good on every check: a subject whose
 * checks are all good and that is not flapping is forgotten, so only
 * subjects that breach cost memory.
 */
export class FlapDetector {
  private readonly histories = new Map<string, History>();

  /**
   * Record one check made at entry time `at`; returns whether the key is
   * flapping now and the weighted share of changes. A check no later than
   * the key's latest (a redelivered entry) changes nothing. `wasFlapping`
   * seeds a key this detector has no history for (an incident restored from
   * Redis keeps its mark).
   */
  record(
    key: string,
    bad: boolean,
    policy: FlapPolicy,
    at: number,
    wasFlapping = false,
  ): { flapping: boolean; share: number } {
    if (policy.checks < 3) {
      this.histories.delete(key);
      return { flapping: false, share: 0 };
    }
    const h = this.histories.get(key) ?? { bits: 0, flapping: wasFlapping, at: -Infinity };
    if (at <= h.at) return { flapping: h.flapping, share: flapShare(h.bits, policy.checks) };
    h.at = at;
    const mask = 2 ** policy.checks - 1;
    h.bits = ((h.bits << 1) | (bad ? 1 : 0)) & mask;
    const share = flapShare(h.bits, policy.checks);
    if (!h.flapping && share >= policy.high) h.flapping = true;
    else if (h.flapping && share <= policy.low) h.flapping = false;
    if (h.bits === 0 && !h.flapping) this.histories.delete(key);
    else this.histories.set(key, h);
    return { flapping: h.flapping, share };
  }

  /** Forget keys that no longer exist (a rule removed by a reload). */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.histories.keys()) if (!keep(key)) this.histories.delete(key);
  }

  get size(): number {
    return this.histories.size;
  }
}
