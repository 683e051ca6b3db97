import type { Redis } from 'ioredis';

/** Hosts per HSCAN slice and script call. */
const SLICE = 500;

/**
 * Delete the fields whose SystemSample `ts` is before ARGV[1], each checked
 * in the script: a host that reported since the scan keeps its field, so
 * replicas sweeping at once, or a collector writing meanwhile, never lose a
 * live host. KEYS: the latest-system hash. ARGV: cutoff, then hosts.
 */
const SWEEP_LUA = `
local out = 0
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local ok, d = pcall(cjson.decode, v)
    if ok and type(d) == 'table' and type(d.ts) == 'number' and d.ts < tonumber(ARGV[1]) then
      redis.call('HDEL', KEYS[1], ARGV[i])
      out = out + 1
    end
  end
end
return out`;

interface SweepCommand {
  quantmonSweepLatestSystem(key: string, cutoff: number, ...hosts: string[]): Promise<number>;
}

/**
 * Forget hosts silent since before `cutoff` from the global latest-system
 * hash (snapshots, the dashboard's host list). The hash is global (one
 * key: any Cluster slot), so the alerter that owns partition 0 sweeps it.
 * HSCAN in slices; the decision is re-checked per field in the script.
 */
export async function sweepLatestSystem(
  redis: Redis,
  key: string,
  cutoff: number,
  signal?: AbortSignal,
): Promise<number> {
  const r = redis as Redis & Partial<SweepCommand>;
  if (!r.quantmonSweepLatestSystem) {
    redis.defineCommand('quantmonSweepLatestSystem', { numberOfKeys: 1, lua: SWEEP_LUA });
  }
  const run = redis as Redis & SweepCommand;
  let cursor = '0';
  let removed = 0;
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', SLICE);
    cursor = next;
    const stale: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      // A cheap pre-filter on the JSON text; the script decides.
      const m = /"ts":(\d+)/.exec(flat[i + 1]!);
      if (!m || Number(m[1]) < cutoff) stale.push(flat[i]!);
    }
    if (stale.length > 0) removed += await run.quantmonSweepLatestSystem(key, cutoff, ...stale);
  } while (cursor !== '0' && !signal?.aborted);
  return removed;
}
