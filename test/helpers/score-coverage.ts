import type { Entry, ScoreUpdate, StrategySample } from '@quantmon/shared';

/**
 * How score updates cover the samples they were computed from. The scorer
 * writes one update per strategy per read batch: an update covers the
 * strategy's samples from `span.firstEntryId` (or just `sampleEntryId`
 * without a span) to `sampleEntryId`, `span.samples` of them. Every sample
 * applied exactly once means the updates of each strategy tile its samples
 * in stream order: no gap, no overlap, nothing left over. Returns the
 * problems found, [] when the tiling is exact.
 */
export function coverageProblems(
  samples: readonly Entry<StrategySample>[],
  updates: readonly Entry<ScoreUpdate>[],
): string[] {
  const own = new Map<string, string[]>();
  for (const s of samples) {
    const list = own.get(s.value.strategy) ?? [];
    list.push(s.id);
    own.set(s.value.strategy, list);
  }
  const next = new Map<string, number>();
  const problems: string[] = [];
  for (const u of updates) {
    const { strategy, sampleEntryId, span } = u.value;
    const list = own.get(strategy) ?? [];
    const at = next.get(strategy) ?? 0;
    const first = span?.firstEntryId ?? sampleEntryId;
    const n = span?.samples ?? 1;
    if (list[at] !== first || list[at + n - 1] !== sampleEntryId) {
      problems.push(
        `${strategy}: update ${u.id} covers ${first}..${sampleEntryId} (${n}), expected it to start at ${list[at] ?? 'nothing left'}`,
      );
    }
    next.set(strategy, at + n);
  }
  for (const [strategy, list] of own) {
    const covered = next.get(strategy) ?? 0;
    if (covered < list.length)
      problems.push(`${strategy}: ${list.length - covered} samples never scored`);
  }
  return problems;
}
