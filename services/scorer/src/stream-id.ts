/** Compare two Redis stream ids ("ms-seq") numerically: <0, 0, >0. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const dm = Number(am) - Number(bm);
  return dm !== 0 ? dm : Number(as) - Number(bs);
}
