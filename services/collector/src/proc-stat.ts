/** Cumulative CPU jiffies from the first line of /proc/stat. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * Parse "cpu  user nice system idle iowait irq softirq steal ..." — idle and
 * iowait are idle time; guest time is already inside user/nice.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n', 1)[0] ?? '';
  const parts = line.trim().split(/\s+/);
  if (parts[0] !== 'cpu') return undefined;
  const v = parts.slice(1, 9).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return undefined;
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Percent busy between two readings; undefined when no time passed. */
export function cpuPercent(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const dt = cur.total - prev.total;
  if (dt <= 0) return undefined;
  return Math.min(100, Math.max(0, ((cur.busy - prev.busy) / dt) * 100));
}
