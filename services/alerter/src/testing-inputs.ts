import {
  METRIC_NAMES,
  type MetricName,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';
import type { RuleInput } from './metric-source.js';

/** A score update with every metric undefined except those given (tests and the bench). */
export function scoreUpdate(
  strategy: string,
  metrics: Partial<Record<MetricName, number>>,
  extra: Partial<ScoreUpdate> = {},
): ScoreUpdate {
  const m = Object.fromEntries(
    METRIC_NAMES.map((n) => [n, metrics[n] ?? null]),
  ) as ScoreUpdate['metrics'];
  return {
    strategy,
    id: `${strategy}-x`,
    ts: 1_700_000_000_000,
    sampleEntryId: '1-0',
    count: 100,
    metrics: m,
    scores: { performance: 50, risk: 20, stability: 80 },
    status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
    weightDrift: null,
    receivedAt: 1_700_000_000_000,
    computedAt: 1_700_000_000_000,
    ...extra,
  };
}

export function scoreInput(
  strategy: string,
  metrics: Partial<Record<MetricName, number>>,
  extra: Partial<ScoreUpdate> = {},
): RuleInput {
  return { kind: 'score', update: scoreUpdate(strategy, metrics, extra) };
}

export function systemInput(host: string, fields: Omit<Partial<SystemSample>, 'host'>): RuleInput {
  return { kind: 'system', sample: { host, ts: 1_700_000_000_000, ...fields } };
}
