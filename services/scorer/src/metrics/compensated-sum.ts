/**
 * Neumaier (improved Kahan) summation. The incremental engine adds a value when
 * it enters the window and adds its negation when it leaves, so a plain float
 * sum would random-walk away from the window's true sum; the compensation term
 * keeps the error at a few ulps of the largest partial sum instead.
 */
export class CompensatedSum {
  private sum = 0;
  private comp = 0;

  add(x: number): void {
    const t = this.sum + x;
    // Whichever operand is larger loses the low-order bits; recover them.
    if (Math.abs(this.sum) >= Math.abs(x)) this.comp += this.sum - t + x;
    else this.comp += x - t + this.sum;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.comp;
  }

  reset(): void {
    this.sum = 0;
    this.comp = 0;
  }
}

/** Compensated sum of a plain array, for the batch reference and re-anchoring. */
export function compensatedSum(values: readonly number[]): number {
  const acc = new CompensatedSum();
  for (const v of values) acc.add(v);
  return acc.value;
}
