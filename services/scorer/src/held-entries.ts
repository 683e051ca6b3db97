import { digitsOf } from './stream-id.js';

/**
 * The stream times (the ms part of the entry ids) of the samples a
 * strategy's windows hold, newest last, at most `cap` (the longest
 * window's count): the oldest is what a restart's replay must still find
 * in the stream, so time retention never trims past it (stream-trimmer.ts).
 * A ring that grows with what it holds (8 bytes a sample), as the windows do.
 */
export class HeldEntries {
  private buf: Float64Array;
  private head = 0;
  private size = 0;

  constructor(readonly cap: number) {
    this.buf = new Float64Array(Math.min(4, cap));
  }

  push(ms: number): void {
    if (this.size < this.cap) {
      if (this.size === this.buf.length) this.grow();
      this.buf[(this.head + this.size) % this.buf.length] = ms;
      this.size++;
      return;
    }
    this.buf[this.head] = ms; // full: the oldest leaves
    this.head = (this.head + 1) % this.buf.length;
  }

  /** The oldest held sample's stream time; undefined when none is held. */
  oldest(): number | undefined {
    return this.size > 0 ? this.buf[this.head] : undefined;
  }

  get length(): number {
    return this.size;
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.cap, this.buf.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) % this.buf.length]!;
    this.buf = next;
    this.head = 0;
  }
}

/** The ms part of a stream entry id (`<ms>-<seq>`). */
export function entryMs(id: string): number {
  const dash = id.indexOf('-');
  return digitsOf(id, 0, dash < 0 ? id.length : dash);
}
