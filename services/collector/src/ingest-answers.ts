/**
 * The answers of one ingest socket, released in message order. A client
 * matches answers to messages by order (and `seq`), but they become ready
 * out of order: a refused message is answered at once, an accepted one
 * after its write, and writes in flight finish in their own time.
 */
export class AnswerQueue {
  private readonly ready = new Map<number, string>();
  private nextSeq = 1;
  private nextOut = 1;

  /** The next message's `seq` (1-based, per connection). */
  reserve(): number {
    return this.nextSeq++;
  }

  /** Messages taken and not yet released (waiting for their answer or for an earlier one). */
  get pending(): number {
    return this.nextSeq - this.nextOut;
  }

  /**
   * Record `seq`'s answer and return every answer now releasable, in order:
   * nothing while an earlier message is still unanswered.
   */
  settle(seq: number, answer: string): string[] {
    if (seq < this.nextOut || seq >= this.nextSeq || this.ready.has(seq)) {
      throw new Error(`answer for seq ${seq} was not expected`);
    }
    this.ready.set(seq, answer);
    const out: string[] = [];
    for (let a = this.ready.get(this.nextOut); a !== undefined; a = this.ready.get(this.nextOut)) {
      this.ready.delete(this.nextOut);
      this.nextOut++;
      out.push(a);
    }
    return out;
  }
}
