/**
 * Which catalogue entries apply to a strategy, and in what order. Pure.
 *
 * Precedence, least specific first (a later entry overrides field by field):
 * 1. `defaults`;
 * 2. patterns that match the id, fewer literal characters first (`*` < `fx-*` < `fx-eur*`);
 *    between patterns with as many literal characters, the one listed first in the file wins;
 * 3. the entry whose key is the id itself.
 */

export interface PatternEntry<E> {
  key: string;
  entry: E;
  /** Position in the file: ties between patterns go to the earlier. */
  order: number;
}

export const isPattern = (key: string): boolean => key.includes('*') || key.includes('?');

/** Characters of a pattern that are not wildcards: the more, the more specific. */
export const literalLength = (key: string): number => key.replace(/[*?]/g, '').length;

/** A glob over the whole id: `*` any run (also empty), `?` exactly one character. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.\\^$+{}()|[\]-]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

/** Patterns compiled once, ordered least specific first, and exact ids in a map. */
export class EntryMatcher<E> {
  private readonly patterns: { re: RegExp; key: string; entry: E }[];
  private readonly exact = new Map<string, E>();

  constructor(entries: readonly PatternEntry<E>[]) {
    const pats: PatternEntry<E>[] = [];
    for (const e of entries) {
      if (isPattern(e.key)) pats.push(e);
      else this.exact.set(e.key, e.entry);
    }
    // Least specific first; among equals the later-listed first, so the earlier-listed applies last (wins).
    pats.sort((a, b) => literalLength(a.key) - literalLength(b.key) || b.order - a.order);
    this.patterns = pats.map((p) => ({ re: globToRegExp(p.key), key: p.key, entry: p.entry }));
  }

  /** The entries that apply to `id`, least specific first. */
  match(id: string): { key: string; entry: E }[] {
    const out: { key: string; entry: E }[] = [];
    for (const p of this.patterns) if (p.re.test(id)) out.push({ key: p.key, entry: p.entry });
    const e = this.exact.get(id);
    if (e !== undefined) out.push({ key: id, entry: e });
    return out;
  }
}
