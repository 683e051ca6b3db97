/**
 * Largest |weight - target| over the assets of either map (an asset missing
 * from one side counts as 0 there). Null unless the sample has both maps.
 */
export function weightDrift(
  weights: Record<string, number> | undefined,
  targets: Record<string, number> | undefined,
): number | null {
  if (!weights || !targets) return null;
  let worst = 0;
  for (const asset of new Set([...Object.keys(weights), ...Object.keys(targets)])) {
    worst = Math.max(worst, Math.abs((weights[asset] ?? 0) - (targets[asset] ?? 0)));
  }
  return worst;
}
