import {
  encodeEntry,
  METRIC_NAMES,
  partitionOf,
  STREAM_MAXLEN,
  type Keys,
  type ScoreUpdate,
  type StrategyMetrics,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';

/**
 * Score updates for many strategies written straight to the partitions'
 * score streams (what the scorer writes), for the overview tests and
 * `npm run bench:dashboard`. Values are a deterministic function of the
 * strategy's index and the round: varied enough that every column sorts
 * and every status shows, never random.
 */
export function deskScore(index: number, round: number, at = Date.now()): ScoreUpdate {
  const strategy = `desk-${String(index).padStart(4, '0')}`;
  const wave = (k: number) => Math.sin(index * 0.37 + round * 0.11 + k);
  const metrics = Object.fromEntries(
    METRIC_NAMES.map((n, k) => [n, Math.round(wave(k) * 1000) / 10_000]),
  ) as StrategyMetrics;
  metrics.sharpeRatio = Math.round(wave(1) * 300) / 100;
  metrics.currentDrawdown = -Math.abs(Math.round(wave(2) * 2000) / 10_000);
  metrics.maxDrawdown = -Math.abs(Math.round(wave(3) * 3000) / 10_000);
  metrics.valueAtRisk = -Math.abs(Math.round(wave(4) * 1800) / 10_000);
  metrics.annualVolatility = Math.abs(Math.round(wave(5) * 4000) / 10_000);
  const performance = Math.round((50 + 45 * wave(6)) * 10) / 10;
  const risk = Math.round((40 + 38 * wave(7)) * 10) / 10;
  const stability = Math.round((75 + 24 * wave(8)) * 10) / 10;
  return {
    strategy,
    id: `${strategy}-${round}`,
    ts: at,
    sampleEntryId: `${at}-${round}`,
    count: Math.min(round + 20, 1000),
    metrics,
    scores: { performance, risk, stability },
    status: {
      performance:
        performance > 70 ? 'EXCELLENT' : performance >= 50 ? 'GOOD' : 'NEEDS IMPROVEMENT',
      risk: risk < 30 ? 'LOW' : risk <= 50 ? 'MODERATE' : 'HIGH',
      stability: stability > 80 ? 'STABLE' : 'UNSTABLE',
    },
    weightDrift: null,
    receivedAt: at,
    computedAt: at,
  };
}

/** XADD the updates to their partitions' score streams and the latest-scores hashes, pipelined. */
export async function writeScores(
  redis: Redis,
  keys: Keys,
  partitions: number,
  updates: readonly ScoreUpdate[],
): Promise<void> {
  const p = redis.pipeline();
  for (const u of updates) {
    const pk = keys.partition(partitionOf(u.strategy, partitions));
    p.xadd(pk.scores, 'MAXLEN', '~', STREAM_MAXLEN.scores, '*', ...encodeEntry(u));
    p.hset(pk.latestScores, u.strategy, JSON.stringify(u));
  }
  await p.exec();
}
