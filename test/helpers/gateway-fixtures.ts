import {
  encodeEntry,
  METRIC_NAMES,
  type AlertEvent,
  type ScoreUpdate,
  type StrategyMetrics,
  type SystemSample,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';

/**
 * Valid stream messages for gateway tests and the gateway benchmark: what
 * the scorer, collector and alerter write, with made-up values.
 */

export function scoreUpdate(strategy: string, i: number, at = Date.now()): ScoreUpdate {
  const metrics = Object.fromEntries(
    METRIC_NAMES.map((n, k) => [n, Math.round(Math.sin(i + k) * 1000) / 10_000]),
  ) as StrategyMetrics;
  return {
    strategy,
    id: `${strategy}-${i}`,
    ts: at,
    sampleEntryId: `${at}-${i}`,
    count: Math.min(i + 1, 1000),
    metrics,
    scores: { performance: 40 + (i % 50), risk: 10 + (i % 40), stability: 70 + (i % 30) },
    status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
    weightDrift: null,
    receivedAt: at,
    computedAt: at,
  };
}

export function systemSample(host: string, i: number, at = Date.now()): SystemSample {
  return { host, ts: at, cpu: 10 + (i % 50), memory: 40 + (i % 30), errorRate: 0 };
}

export function alertEvent(n: number, opts: Partial<AlertEvent> = {}, at = Date.now()): AlertEvent {
  return {
    incidentId: `inc-${n}-x`,
    rule: 'var_exceeded',
    level: 'critical',
    subject: `strategy/s${n % 7}`,
    state: 'firing',
    value: 0.2,
    threshold: 0.15,
    metric: 'valueAtRisk',
    message: `alert ${n}`,
    recommendation: 'reduce exposure',
    startsAt: at,
    endsAt: null,
    ts: at,
    ...opts,
  };
}

/** XADD one message the way the services encode it; returns its id. */
export async function add(redis: Redis, stream: string, message: unknown): Promise<string> {
  return (await redis.xadd(stream, '*', ...encodeEntry(message))) as string;
}
