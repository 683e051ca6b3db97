import { statfs } from 'node:fs/promises';

/** Percent used as `df` reports it: used / (used + available to unprivileged users). */
export function usePercent(s: {
  blocks: number;
  bfree: number;
  bavail: number;
}): number | undefined {
  const used = s.blocks - s.bfree;
  const denom = used + s.bavail;
  if (!(denom > 0) || used < 0) return undefined;
  return Math.min(100, (used / denom) * 100);
}

/**
 * Highest use among the mount points, with one statfs(2) per mount (no
 * `df` child process). A mount that cannot be read is left out; undefined
 * when none could.
 */
export async function highestDiskUse(mounts: readonly string[]): Promise<number | undefined> {
  const values = await Promise.all(
    mounts.map(async (m) => {
      try {
        return usePercent(await statfs(m));
      } catch {
        return undefined;
      }
    }),
  );
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}
