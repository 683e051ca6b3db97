import {
  decodeEntry,
  readJsonHash,
  ScoreUpdate,
  StrategySample,
  type Logger,
  type PartitionKeys,
  type RawEntry,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { ScorerCore } from './scorer-core.js';
import { compareStreamIds } from './stream-id.js';
import type { WindowNeed } from './strategy-windows.js';

const PAGE = 5000;

/** What a strategy's replay must gather: the samples its windows hold. */
interface Plan {
  needs: WindowNeed[];
  /** Per window (same order), the count the strategy's latest update showed, when known. */
  shown?: (number | undefined)[];
  /** Only samples at or before this entry id (a rebuild's: the last one applied). */
  until?: string;
  /** Counted in `unmet` until filled (strategies met without a plan are taken, not waited for). */
  wait: boolean;
}

interface Taken {
  list: { id: string; sample: StrategySample }[];
  newestTs: number;
}

/**
 * A window is filled by as many samples as it holds, or once a sample older
 * than its time span was reached; with the count the latest update showed
 * for it (fewer than it holds), by that many: the strategy had no more.
 */
function filled(plan: Plan, t: Taken): boolean {
  const n = t.list.length;
  const oldestTs = t.list.at(-1)?.sample.ts ?? Infinity;
  return plan.needs.every((w, i) => {
    const shown = plan.shown?.[i];
    const count = shown !== undefined ? Math.min(shown, w.count) : w.count;
    return n >= count || (w.timeMs !== undefined && oldestTs < t.newestTs - w.timeMs);
  });
}

/**
 * Read the partition's samples backwards from `through` and gather, per
 * strategy, the newest samples its windows hold (at most its largest
 * window), stopping once every waited-for strategy is filled: a replay
 * reads what the windows hold, not the whole stream. `plans` absent
 * strategies get `defaultPlan` (or are skipped without one).
 */
async function gather(
  redis: Redis,
  pk: PartitionKeys,
  through: string,
  plans: Map<string, Plan>,
  defaultPlan: ((strategy: string) => Plan) | undefined,
): Promise<Map<string, Taken>> {
  let unmet = [...plans.values()].filter((p) => p.wait).length;
  const taken = new Map<string, Taken>();
  const done = new Set<string>();
  let end = through;
  for (;;) {
    const page = (await redis.xrevrange(pk.strategySamples, end, '-', 'COUNT', PAGE)) as RawEntry[];
    for (const [id, fields] of page) {
      const d = decodeEntry(fields, StrategySample);
      if (!d.ok) continue; // dead-lettered when it was read
      const s = d.value.strategy;
      if (done.has(s)) continue;
      let plan = plans.get(s);
      if (!plan) {
        if (!defaultPlan) continue;
        plan = defaultPlan(s);
        plans.set(s, plan);
      }
      if (plan.until !== undefined && compareStreamIds(id, plan.until) > 0) continue;
      let t = taken.get(s);
      if (!t) {
        t = { list: [], newestTs: d.value.ts };
        taken.set(s, t);
      }
      t.list.push({ id, sample: d.value });
      if (filled(plan, t)) {
        done.add(s);
        if (plan.wait) unmet--;
      }
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE || unmet <= 0) break;
    end = `(${last[0]}`;
  }
  return taken;
}

function restoreAll(core: ScorerCore, taken: Map<string, Taken>): number {
  let restored = 0;
  for (const { list } of taken.values()) {
    for (let i = list.length - 1; i >= 0; i--) {
      core.restore(list[i]!.id, list[i]!.sample);
      restored++;
    }
  }
  return restored;
}

/**
 * Rebuild a partition's windows when its scorer takes it over (a start, a
 * restart, a rebalance): every sample up to the committed position
 * (`through`, the scorer group's last-delivered-id) was applied, so the
 * newest samples each window holds are the windows. A strategy with a
 * latest score is waited for until every window has the count that score
 * showed (or, for a window it did not show, what the window holds).
 * Samples after `through` are the reader's to apply and score. A strategy
 * without a latest score is not restored: it was forgotten.
 */
export async function replayWindows(
  redis: Redis,
  pk: PartitionKeys,
  through: string,
  core: ScorerCore,
  log: Logger,
): Promise<number> {
  if (through === '0-0') return 0;
  const latest = await readJsonHash(redis, pk.latestScores, ScoreUpdate, (strategy) =>
    log.warn({ strategy }, 'ignoring unreadable latest score'),
  );
  const plans = new Map<string, Plan>();
  for (const [s, u] of latest) {
    const needs = core.windowNeeds(s);
    const names = [undefined, ...core.windowNames(s)];
    const shown = names.map((n) => (n === undefined ? u.count : u.windows?.[n]?.count));
    if (needs.every((_, i) => shown[i] === 0)) continue;
    plans.set(s, { needs, shown, wait: true });
  }
  // Only strategies with a latest score: one forgotten (idle, or retired:
  // forget-sweep.ts) has none, and its samples still in the stream must not
  // bring it back; one that came back has the count of its new window only.
  const taken = await gather(redis, pk, through, plans, undefined);
  const restored = restoreAll(core, taken);
  log.debug(
    { partition: pk.partition, strategies: taken.size, samples: restored, through },
    'restored rolling windows from the sample stream',
  );
  return restored;
}

/**
 * Rebuild the windows of strategies whose catalogue parameters changed
 * (ScorerCore.setCatalogue emptied them): replay each one's newest samples
 * up to the last one it applied, then mark it so its next update carries
 * `rebuilt`. Logged per strategy with what changed.
 */
export async function rebuildStrategies(
  redis: Redis,
  pk: PartitionKeys,
  core: ScorerCore,
  changed: readonly { strategy: string; reason: string }[],
  log: Logger,
  now: () => number,
): Promise<void> {
  const plans = new Map<string, Plan>();
  let through = '0-0';
  for (const { strategy } of changed) {
    const until = core.lastEntryIdOf(strategy);
    if (until === undefined || until === '0-0') continue;
    plans.set(strategy, { needs: core.windowNeeds(strategy), until, wait: true });
    if (compareStreamIds(until, through) > 0) through = until;
  }
  const taken = plans.size > 0 ? await gather(redis, pk, through, plans, undefined) : new Map();
  restoreAll(core, taken);
  for (const { strategy, reason } of changed) {
    const samples = taken.get(strategy)?.list.length ?? 0;
    core.markRebuilt(strategy, reason, samples, now());
    log.info(
      { partition: pk.partition, strategy, samples, reason },
      'catalogue changed the strategy: windows rebuilt by replay',
    );
  }
}
