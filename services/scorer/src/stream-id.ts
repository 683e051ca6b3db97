/**
 * Compare two Redis stream ids ("ms-seq") numerically: <0, 0, >0. A
 * missing seq counts as 0. Called once per sample the scorer applies, so it
 * reads the digits in place: a slice per part (the previous form) was a
 * new string each, ~100 bytes a sample of the scorer's allocation with
 * entryMs (docs/performance.md, "twenty-eighth session").
 */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const ai = a.indexOf('-');
  const bi = b.indexOf('-');
  const aEnd = ai < 0 ? a.length : ai;
  const bEnd = bi < 0 ? b.length : bi;
  const dm = digitsOf(a, 0, aEnd) - digitsOf(b, 0, bEnd);
  if (dm !== 0) return dm;
  return (
    (ai < 0 ? 0 : digitsOf(a, ai + 1, a.length)) - (bi < 0 ? 0 : digitsOf(b, bi + 1, b.length))
  );
}

/**
 * The decimal number s[from, to) spells, as Number() reads that slice of
 * a stream id: 0 when empty, NaN when not all digits. Exact below 2^53 (a
 * stream id's milliseconds and sequence are).
 */
export function digitsOf(s: string, from: number, to: number): number {
  let x = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    x = x * 10 + d;
  }
  return x;
}
