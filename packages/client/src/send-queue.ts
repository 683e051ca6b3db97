/**
 * The messages a SampleSocket has sent (or will send) and not had answered,
 * oldest first. An array's `shift()` moves every element once the array is
 * large (V8 can trim the front of a small array in place, not of one in its
 * large-object space): a burst of 50,000 sends then cost the client more in
 * shifts than in everything else (docs/performance.md, "ninth session").
 * Here the front advances by an index, and the array is compacted once
 * half of it is answered, so each message costs O(1) amortised.
 */
export class SendQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Every item, oldest first (without removing them). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }

  /** Remove and return every item, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}
