import {
  METRIC_NAMES,
  ScoreUpdate,
  SystemSample,
  type MetricValue,
  type StrategyMetrics,
} from '@quantmon/shared';

/**
 * Valid stream messages for feeding the alerter directly, without a scorer
 * or a collector in between. Every metric not given is null (undefined), so
 * only the rules watching the given metrics can fire.
 */
export function scoreUpdate(
  strategy: string,
  seq: number,
  metrics: Partial<Record<keyof StrategyMetrics, MetricValue>>,
  count = 30,
): ScoreUpdate {
  const all = Object.fromEntries(METRIC_NAMES.map((n) => [n, null])) as StrategyMetrics;
  const ts = Date.parse('2026-03-02T00:00:00Z') + seq * 60_000;
  return ScoreUpdate.parse({
    strategy,
    id: `${strategy}-${seq}`,
    ts,
    sampleEntryId: `${ts}-0`,
    count,
    metrics: { ...all, ...metrics },
    scores: { performance: 50, risk: 50, stability: 50 },
    status: { performance: 'GOOD', risk: 'MODERATE', stability: 'UNSTABLE' },
    weightDrift: null,
    receivedAt: ts,
    computedAt: ts,
  });
}

/** A host sample measuring only the given fields. */
export function systemSample(
  host: string,
  fields: Omit<SystemSample, 'host' | 'ts'>,
): SystemSample {
  return SystemSample.parse({ host, ts: Date.now(), ...fields });
}
