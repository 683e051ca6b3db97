import type { Cluster, Redis } from 'ioredis';
import type { Keys, LiveCatalogue, StrategySample } from '@quantmon/shared';
import type { RequestResult } from './write-coalescer.js';
import { benchmarkReturnsToRecord, applyFill, benchmarkIds, planFill } from './benchmark-fill.js';

/**
 * Periods of a benchmark kept for lookups: a strategy's sample finds its
 * benchmark's return if that period is among the latest this many (about
 * 51 trading days of minutes, 80 years of days).
 */
export const BENCHMARK_PERIODS_KEPT = 20_000;

/**
 * KEYS[1] hash ts -> return, KEYS[2] sorted set of ts. ARGV: cap, TTL ms
 * (0: none), then ts, return pairs. Trims the oldest past the cap in the
 * same step, so the two keys always agree.
 */
const RECORD_SCRIPT = `
local cap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i])
end
local n = redis.call('ZCARD', KEYS[2])
if n > cap then
  local old = redis.call('ZRANGE', KEYS[2], 0, n - cap - 1)
  for i = 1, #old, 1000 do
    redis.call('HDEL', KEYS[1], unpack(old, i, math.min(i + 999, #old)))
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - cap - 1)
end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return n
`;

interface RecordCommand {
  quantmonRecordBenchmark(...args: (string | number)[]): Promise<number>;
}

export interface BenchmarkReturnsOptions {
  redis: Redis | Cluster;
  keys: Keys;
  catalogue: LiveCatalogue;
  /** IDLE_FORGET_AFTER: a benchmark silent this long is dropped from Redis (0: never). */
  idleForgetAfterMs: number;
  kept?: number;
}

/**
 * The collector's side of catalogue benchmarks: before a write, fill each
 * sample's missing benchmarkReturn (benchmark-fill.ts); after it, remember
 * the benchmarks' own accepted returns. Costs nothing while no catalogue
 * entry names a benchmark.
 */
export class BenchmarkReturns {
  private readonly redis: Redis | Cluster;
  private readonly kept: number;

  constructor(private readonly opts: BenchmarkReturnsOptions) {
    this.redis = opts.redis;
    this.kept = opts.kept ?? BENCHMARK_PERIODS_KEPT;
    if (!(this.redis as Partial<RecordCommand>).quantmonRecordBenchmark) {
      this.redis.defineCommand('quantmonRecordBenchmark', { numberOfKeys: 2, lua: RECORD_SCRIPT });
    }
  }

  /** The request with benchmark returns filled where the catalogue names a benchmark. */
  /** Synchronous when there is nothing to fill (most batches): no promise per batch. */
  fill(samples: StrategySample[]): StrategySample[] | Promise<StrategySample[]> {
    const catalogue = this.opts.catalogue.current;
    // No benchmark named: not even a plan's three maps, per request (a
    // single-sample POST made four maps here and in record()).
    if (benchmarkIds(catalogue).size === 0) return samples;
    const plan = planFill(samples, catalogue);
    if (plan.targets.size === 0) return samples;
    return this.lookUp(samples, plan);
  }

  private async lookUp(
    samples: StrategySample[],
    plan: ReturnType<typeof planFill>,
  ): Promise<StrategySample[]> {
    const found = new Map<string, Map<number, number>>();
    // One HMGET per benchmark (its keys share one hash tag, so this works on a Cluster too).
    await Promise.all(
      [...plan.lookups].map(async ([b, ts]) => {
        const values = await this.redis.hmget(
          this.opts.keys.benchmarkReturns(b).returns,
          ...ts.map(String),
        );
        const byTs = new Map<number, number>();
        values.forEach((v, i) => {
          if (v !== null) byTs.set(ts[i]!, Number(v));
        });
        found.set(b, byTs);
      }),
    );
    return applyFill(samples, plan, found);
  }

  /**
   * Remember the benchmarks' returns the stream holds. Throws when Redis
   * did not take them: the request is answered 503 and the client's retry
   * (its samples now duplicates) records them, so no fill is missed.
   */
  record(samples: readonly StrategySample[], result: RequestResult): Promise<void> | undefined {
    const bench = benchmarkIds(this.opts.catalogue.current);
    if (bench.size === 0) return undefined;
    const accepted = benchmarkReturnsToRecord(samples, result.outcomes, bench);
    // Undefined, not a promise, when there is nothing to record (most
    // batches): a single-sample POST pays for every promise it awaits.
    if (accepted.size === 0) return undefined;
    return this.recordAll(accepted);
  }

  private async recordAll(accepted: ReturnType<typeof benchmarkReturnsToRecord>): Promise<void> {
    await Promise.all(
      [...accepted].map(async ([b, pairs]) => {
        const k = this.opts.keys.benchmarkReturns(b);
        const args: (string | number)[] = [k.returns, k.index, this.kept];
        args.push(this.opts.idleForgetAfterMs);
        for (const [ts, r] of pairs) args.push(ts, String(r));
        await (this.redis as unknown as RecordCommand).quantmonRecordBenchmark(...args);
      }),
    );
  }
}
