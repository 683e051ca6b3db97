import { z } from 'zod';
import { CommonEnv, common, int, num, parseEnv, port, type CommonConfig, type Env } from './env.js';
import { StreamRetention } from './stream-retention.js';

const ScorerEnv = CommonEnv.extend({
  SCORER_PORT: port(8082),
  /** Partition lease TTL: partitions of a dead scorer move within about this long. */
  LEASE_TTL_MS: int(5000, 500, 300_000),
  SCORER_WINDOW: int(1000, 2, 1_000_000),
  PERIODS_PER_YEAR: num(252).pipe(z.number().positive()),
  RISK_FREE: num(0),
  REQUIRED_RETURN: num(0),
  VAR_CUTOFF: num(0.05).pipe(z.number().gt(0).lt(1)),
  /** Data streams keep entries this long (the scorer trims them: stream-trimmer.ts); 0/off: by length only. */
  STREAM_RETENTION: StreamRetention,
  /**
   * The read beat: after a batch, a partition's next read waits for its next
   * beat, every this many ms (partition p of P at p/P of a beat). Longer:
   * fewer, larger score updates (less CPU per sample at moderate rates),
   * later frames; 0: read again at once. 40 since 2026-12-04: a fifth less
   * CPU than 20 at every rate and a lower p99 at high rates on 2 cores, for
   * ~15 ms more latency at moderate ones (docs/performance.md, "The read beat").
   */
  SCORER_LINGER_MS: int(40, 0, 1000),
});

export interface ScorerConfig extends CommonConfig {
  port: number;
  leaseTtlMs: number;
  window: number;
  periodsPerYear: number;
  riskFree: number;
  requiredReturn: number;
  varCutoff: number;
  /** STREAM_RETENTION in ms: older entries every consumer group has processed are trimmed; 0: never by age. */
  streamRetentionMs: number;
  /** SCORER_LINGER_MS: the read beat (partition-scorer.ts, nextCycleAt and beatOffset). */
  lingerMs: number;
}

export function loadScorerConfig(env: Env): ScorerConfig {
  const e = parseEnv(ScorerEnv, env);
  return {
    ...common(e, 'scorer'),
    port: e.SCORER_PORT,
    leaseTtlMs: e.LEASE_TTL_MS,
    window: e.SCORER_WINDOW,
    periodsPerYear: e.PERIODS_PER_YEAR,
    riskFree: e.RISK_FREE,
    requiredReturn: e.REQUIRED_RETURN,
    varCutoff: e.VAR_CUTOFF,
    streamRetentionMs: e.STREAM_RETENTION,
    lingerMs: e.SCORER_LINGER_MS,
  };
}
