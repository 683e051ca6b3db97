import { posAfter, posMs } from './format.js';

/**
 * Time series for one chart, keyed by stream position so history (loaded
 * over REST) and live frames merge without duplicates, in order, and
 * bounded to the newest `max` points.
 */
export class Series {
  private readonly pos: string[] = [];
  private readonly rows: (number | null)[][] = [];

  constructor(
    readonly names: string[],
    private readonly max = 2000,
  ) {}

  get length(): number {
    return this.pos.length;
  }

  add(pos: string, values: (number | null)[]): void {
    const last = this.pos[this.pos.length - 1];
    if (last === undefined || posAfter(pos, last)) {
      this.pos.push(pos);
      this.rows.push(values);
    } else {
      // An older point (history arriving after live frames): insert in order, once.
      let i = this.pos.length - 1;
      while (i >= 0 && posAfter(this.pos[i]!, pos)) i--;
      if (i >= 0 && this.pos[i] === pos) return;
      this.pos.splice(i + 1, 0, pos);
      this.rows.splice(i + 1, 0, values);
    }
    if (this.pos.length > this.max) {
      this.pos.splice(0, this.pos.length - this.max);
      this.rows.splice(0, this.rows.length - this.max);
    }
  }

  clear(): void {
    this.pos.length = 0;
    this.rows.length = 0;
  }

  /** uPlot's columns: x in seconds (write time), then one array per series. */
  columns(): [number[], ...(number | null)[][]] {
    const xs = this.pos.map((p) => posMs(p) / 1000);
    const cols = this.names.map((_, k) => this.rows.map((r) => r[k] ?? null));
    return [xs, ...cols];
  }
}
