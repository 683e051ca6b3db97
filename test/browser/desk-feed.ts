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
 * Score updates (with catalogue tags) for many strategies written straight to the partitions'
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
  // Inside the default rules' limits, except a few strategies: one in 50 beyond the VaR
  // limit (critical), one in 25 beyond the drawdown limit (warning), as on a real desk.
  const varLimit = index % 50 === 7 ? 0.19 : 0.12;
  const ddLimit = index % 25 === 3 ? 0.14 : 0.08;
  metrics.sharpeRatio = Math.round(wave(1) * 300) / 100;
  metrics.currentDrawdown = -Math.round(Math.abs(wave(2)) * ddLimit * 10_000) / 10_000;
  metrics.maxDrawdown = -Math.round(Math.abs(wave(3)) * 0.3 * 10_000) / 10_000;
  metrics.valueAtRisk = -Math.round((Math.abs(wave(4)) * 0.5 + 0.5) * varLimit * 10_000) / 10_000;
  metrics.annualVolatility = Math.round(Math.abs(wave(5)) * 0.22 * 10_000) / 10_000;
  metrics.correlation = Math.round(wave(9) * 0.7 * 1000) / 1000;
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
    // Catalogue tags, as the scorer copies them: four desks, three managers (grouping and filters).
    tags: { desk: DESKS[index % DESKS.length]!, manager: MANAGERS[index % MANAGERS.length]! },
  };
}

const DESKS = ['rates', 'fx', 'credit', 'equities'] as const;
const MANAGERS = ['kim', 'lee', 'ortiz'] as const;

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
