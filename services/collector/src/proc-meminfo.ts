/**
 * Memory in use, percent, from /proc/meminfo: (MemTotal - MemAvailable) /
 * MemTotal. MemAvailable excludes the page cache and reclaimable slab the
 * kernel gives back on demand (the same figure as systeminformation's
 * `active`, without its extra work).
 */
export function memoryPercent(meminfo: string): number | undefined {
  const total = /^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1];
  const available = /^MemAvailable:\s+(\d+)/m.exec(meminfo)?.[1];
  if (total === undefined || available === undefined) return undefined;
  const t = Number(total);
  const a = Number(available);
  if (!(t > 0) || a < 0 || a > t) return undefined;
  return ((t - a) / t) * 100;
}
