/**
 * Compare two Redis stream ids ("ms-seq") numerically: <0, 0, >0. A
 * missing seq counts as 0. Called once per sample the scorer applies, so it
 * allocates nothing but the two number parses (no split arrays).
 */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const ai = a.indexOf('-');
  const bi = b.indexOf('-');
  const dm = Number(ai < 0 ? a : a.slice(0, ai)) - Number(bi < 0 ? b : b.slice(0, bi));
  if (dm !== 0) return dm;
  return (ai < 0 ? 0 : Number(a.slice(ai + 1))) - (bi < 0 ? 0 : Number(b.slice(bi + 1)));
}
