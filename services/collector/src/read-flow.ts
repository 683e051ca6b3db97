/** What flow control needs of one connection. */
export interface FlowIo {
  /** Stop reading the client's messages (its sends then wait in TCP). */
  pause(): void;
  resume(): void;
  /** Answer bytes written and not yet taken by the kernel. */
  buffered(): number;
  /** Call `cb` once the buffered bytes have all been handed to the kernel. */
  onceDrained(cb: () => void): void;
  /** Messages taken and not yet answered. */
  pending(): number;
}

export interface FlowLimits {
  /** Unanswered messages at which reading stops; it resumes at half. */
  maxPending: number;
  /** Unread answer bytes at which reading stops; it resumes at half. */
  maxBufferedBytes: number;
}

/**
 * When to stop and restart reading one ingest connection: at most
 * `maxPending` messages waiting for their writes, and at most
 * `maxBufferedBytes` of answers its client has not read. Call `update()`
 * after each message taken and each answer sent. Reading restarts when both
 * are back under half: an answer sent calls `update()` again, and while the
 * buffer is the reason, the socket's drain does (the only event left once
 * every message is answered and the client is slow to read).
 */
export class ReadFlow {
  private paused = false;
  private watchingDrain = false;

  constructor(
    private readonly io: FlowIo,
    private readonly limits: FlowLimits,
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  update(): void {
    const pending = this.io.pending();
    const buffered = this.io.buffered();
    if (!this.paused) {
      if (pending < this.limits.maxPending && buffered <= this.limits.maxBufferedBytes) return;
      this.paused = true;
      this.io.pause();
      if (buffered > this.limits.maxBufferedBytes) this.watchDrain();
      return;
    }
    // Answers still to come will call again.
    if (pending > this.limits.maxPending / 2) return;
    if (buffered > this.limits.maxBufferedBytes / 2) {
      this.watchDrain();
      return;
    }
    this.paused = false;
    this.io.resume();
  }

  private watchDrain(): void {
    if (this.watchingDrain) return;
    this.watchingDrain = true;
    this.io.onceDrained(() => {
      this.watchingDrain = false;
      this.update();
    });
  }
}
