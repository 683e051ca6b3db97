import { CompensatedSum } from './compensated-sum.js';

/**
 * Separate sliding sums of the positive and the negative values, with counts.
 * Omega, profit factor and downside risk divide by one of these sums; when no
 * value of that sign is left in the window the sum is exactly 0 (from the
 * count), not the few-ulp residue of adding and removing, so x / 0 gives the
 * same Infinity or NaN as the batch reference.
 */
export class SplitSum {
  private readonly pos = new CompensatedSum();
  private readonly neg = new CompensatedSum();
  private nPos = 0;
  private nNeg = 0;

  add(x: number): void {
    if (x > 0) {
      this.pos.add(x);
      this.nPos++;
    } else if (x < 0) {
      this.neg.add(x);
      this.nNeg++;
    }
  }

  remove(x: number): void {
    if (x > 0) {
      this.pos.add(-x);
      this.nPos--;
    } else if (x < 0) {
      this.neg.add(-x);
      this.nNeg--;
    }
  }

  reset(): void {
    this.pos.reset();
    this.neg.reset();
    this.nPos = 0;
    this.nNeg = 0;
  }

  get positive(): number {
    return this.nPos === 0 ? 0 : this.pos.value;
  }

  /** Sum of the negative values (<= 0). */
  get negative(): number {
    return this.nNeg === 0 ? 0 : this.neg.value;
  }

  get positiveCount(): number {
    return this.nPos;
  }

  get negativeCount(): number {
    return this.nNeg;
  }
}
