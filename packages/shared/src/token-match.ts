import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Whether `candidate` is one of `tokens`, in time that depends neither on
 * where the first differing byte is nor on which token matched: both sides
 * are hashed to 32 bytes (equal lengths for timingSafeEqual, whatever the
 * token's length) and every token is compared, without stopping at a hit.
 */
export function tokenMatches(candidate: string, tokens: readonly string[]): boolean {
  const d = digest(candidate);
  let hit = false;
  for (const t of tokens) hit = timingSafeEqual(d, digest(t)) || hit;
  return hit;
}
