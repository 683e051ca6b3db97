/**
 * A connection's queue of frames waiting for its socket to drain. Frames
 * with a conflation key (the latest score of one strategy, the latest
 * sample of one host) replace their older self and move to the back, so
 * the queue stays in stream order and holds at most one frame per key.
 * Frames without a key (alerts, replies) are never replaced or dropped
 * here: the connection closes the client when the total passes its limit.
 * Pure bookkeeping: no sockets.
 */
export interface OutboxItem {
  data: Buffer;
  /** Conflation key, or null for a frame that must be delivered. */
  key: string | null;
}

export class Outbox {
  private readonly items = new Map<string | number, OutboxItem>();
  private seq = 0;
  private byteCount = 0;

  /** Queue a frame; true when it replaced (conflated) an older one. */
  push(item: OutboxItem): boolean {
    const k = item.key ?? this.seq++;
    const old = this.items.get(k);
    if (old) {
      this.items.delete(k);
      this.byteCount -= old.data.length;
    }
    this.items.set(k, item);
    this.byteCount += item.data.length;
    return old !== undefined;
  }

  /** The oldest frame, removed. */
  shift(): OutboxItem | undefined {
    const first = this.items.entries().next();
    if (first.done) return undefined;
    const [k, item] = first.value;
    this.items.delete(k);
    this.byteCount -= item.data.length;
    return item;
  }

  /** Drop everything; returns how many frames were dropped. */
  clear(): number {
    const n = this.items.size;
    this.items.clear();
    this.byteCount = 0;
    return n;
  }

  get size(): number {
    return this.items.size;
  }

  get bytes(): number {
    return this.byteCount;
  }
}
