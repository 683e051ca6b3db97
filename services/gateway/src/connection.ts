import { WS_CLOSE, wsSocket, type ResumeStream } from '@quantmon/shared';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { Outbox } from './outbox.js';
import { compareIds } from './stream-pos.js';
import { TokenBucket } from './token-bucket.js';
import { framePayload, isFinal } from './wire-frame.js';

/** A broadcast frame, serialised and framed once and shared by every recipient. */
export interface EncodedFrame {
  /** The whole WebSocket frame (wire-frame.ts): header and JSON payload. */
  data: Buffer;
  key: string | null;
  stream: ResumeStream | null;
  /** The partition of `stream` the entry came from. */
  part: number;
  pos: string | null;
}

/** Counters shared by every connection of one gateway (read by /metrics). */
export interface FanoutStats {
  framesOut: number;
  conflated: number;
  dropped: number;
  slowClosed: number;
  rateLimitedClosed: number;
}

export interface ConnectionLimits {
  /** Socket buffer above which frames wait in the outbox. */
  highWater: number;
  /** Outbox + socket buffer + held frames above which the client is closed (slow consumer). */
  maxBacklog: number;
  clientRate: number;
  clientBurst: number;
  /** Topics a connection may hold at once (GATEWAY_MAX_TOPICS). */
  maxTopics: number;
}

const TEXT = { binary: false } as const;
/** A fragment of a text message that goes on (ws sends continuations until `fin`). */
const TEXT_MORE = { binary: false, fin: false } as const;

/**
 * Most bytes gathered in a corked socket before they are written anyway:
 * a tick's few frames share one write, a large batch (a replay, a burst of
 * alerts) still reaches the kernel as it goes, so the high-water and
 * backlog checks see the socket's real backpressure, not our own cork.
 */
const CORK_MAX_BYTES = 16 * 1024;

/**
 * One WebSocket client: its outbox (bounded, metric frames conflated),
 * frames held while a resume reads the stream, and its message budget.
 * Writes go straight to the socket while it keeps up; once the socket
 * buffer passes the high-water mark they wait in the outbox and drain as
 * writes complete, so a slow client costs memory (bounded), never time
 * for the others.
 */
export class Connection {
  alive = true;
  closed = false;
  /** Serialises this client's subscribe handling (resumes are async). */
  queue: Promise<void> = Promise.resolve();
  readonly bucket: TokenBucket;
  /** Messages refused by the rate limit since the last accepted one. */
  refused = 0;
  /** Score updates go out without `span` (subscribe's `omit`). */
  omitSpan = false;
  private readonly outbox = new Outbox();
  /**
   * Live metric frames (keyed: the latest score of a strategy, the latest
   * sample of a host) waiting for this connection's next paced delivery,
   * one per key: subscribe's `intervalMs`. Separate from the outbox, which
   * drains whenever the socket does; these wait for their time.
   */
  private readonly paced = new Outbox();
  private pacingMs = 0;
  private pacedTimer: NodeJS.Timeout | undefined;
  /** When paced frames last went out (-Infinity: never, so the first goes at once). */
  private pacedAt = -Infinity;
  private readonly onPacedTime = (): void => {
    this.pacedTimer = undefined;
    this.releasePaced();
  };
  private readonly held = new Map<ResumeStream, EncodedFrame[]>();
  /**
   * After a replay, live frames up to the replay's last entry (per stream
   * and partition, keyed `stream/part`) are duplicates even when the stream
   * reader broadcasts them later (the replay's XRANGE can run ahead of it).
   */
  private readonly skipUpTo = new Map<string, string>();
  private heldBytes = 0;
  private readonly onWritten = (): void => this.flush();
  private readonly raw: Duplex | undefined;
  private corked = false;
  private readonly corkMaxBytes: number;

  constructor(
    readonly ws: WebSocket,
    readonly id: number,
    private readonly limits: ConnectionLimits,
    private readonly stats: FanoutStats,
    now: number,
  ) {
    this.bucket = new TokenBucket(limits.clientRate, limits.clientBurst, now);
    // ws keeps its socket private (wsSocket); writing a prepared frame to it
    // directly is safe while nothing is compressed (perMessageDeflate is
    // off), because ws then writes every frame synchronously, in call order.
    this.raw = wsSocket(ws);
    this.corkMaxBytes = Math.min(CORK_MAX_BYTES, limits.highWater);
  }

  get outboxFrames(): number {
    return this.outbox.size;
  }

  get backlogBytes(): number {
    return this.outbox.bytes + this.paced.bytes + this.heldBytes + this.ws.bufferedAmount;
  }

  /**
   * Subscribe's `intervalMs`: live metric frames at most once per `ms`
   * (0: as they come). Turning it off sends what is waiting at once.
   */
  setPacing(ms: number): void {
    this.pacingMs = ms;
    if (ms === 0) this.releasePaced();
  }

  /** A live broadcast frame: held during a resume of its stream, else queued or written. */
  deliver(f: EncodedFrame): void {
    if (this.closed) return;
    if (f.stream && f.pos && this.skipUpTo.size > 0) {
      const k = `${f.stream}/${f.part}`;
      const upTo = this.skipUpTo.get(k);
      if (upTo !== undefined) {
        if (compareIds(f.pos, upTo) <= 0) return;
        this.skipUpTo.delete(k); // the reader is past the replay in this partition now
      }
    }
    const held = f.stream ? this.held.get(f.stream) : undefined;
    if (held) {
      held.push(f);
      this.heldBytes += f.data.length;
      this.checkBacklog();
      return;
    }
    if (f.key !== null && this.pacingMs > 0) return this.pace(f.data, f.key);
    if (this.paced.size > 0) this.releasePaced(); // an alert goes at once, after what waited
    this.enqueue(f.data, f.key);
  }

  /** A reply or replayed frame (framed) for this client only: never conflated or dropped. */
  sendOwn(data: Buffer): void {
    if (this.closed) return;
    if (this.paced.size > 0) this.releasePaced();
    this.enqueue(data, null);
  }

  /**
   * The frames of one fragmented message (wire-frame.ts textFragments), for
   * this client only. They go out together and in order, as one large frame
   * would: straight to the socket when nothing waits (the socket buffers
   * them), else all into the queue.
   */
  sendOwnFragments(frames: readonly Buffer[]): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.paced.size > 0) this.releasePaced();
    if (this.outbox.size === 0 && this.ws.bufferedAmount <= this.limits.highWater) {
      for (const f of frames) this.write(f);
      return;
    }
    for (const f of frames) this.outbox.push({ data: f, key: null });
    this.checkBacklog();
  }

  /** Start holding live frames of `stream` (a resume is reading it). */
  hold(stream: ResumeStream): void {
    if (!this.held.has(stream)) this.held.set(stream, []);
  }

  /**
   * Stop holding: frames after `cutoffs[part]` (per partition, the last
   * entry the replay read, or the snapshot's position) go out in order;
   * earlier ones were in the replay or the snapshot and are dropped as
   * duplicates.
   */
  release(stream: ResumeStream, cutoffs: readonly string[]): void {
    const frames = this.held.get(stream);
    if (!frames) return;
    this.held.delete(stream);
    cutoffs.forEach((cutoff, part) => this.skipUpTo.set(`${stream}/${part}`, cutoff));
    for (const f of frames) {
      this.heldBytes -= f.data.length;
      this.deliver(f);
    }
  }

  /**
   * Gather this client's writes in its socket until uncork(), so the frames
   * of one tick (an alert and a system sample, several scores) leave in one
   * writev: per-socket writes, not bytes, are what a broadcast costs.
   * False when already corked (or no raw socket to cork).
   */
  cork(): boolean {
    if (this.corked || !this.raw || this.closed) return false;
    this.raw.cork();
    this.corked = true;
    return true;
  }

  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.raw?.uncork();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pacedTimer);
    this.stats.dropped += this.outbox.clear() + this.paced.clear();
    for (const frames of this.held.values()) this.stats.dropped += frames.length;
    this.held.clear();
    this.heldBytes = 0;
    this.ws.close(code, reason);
  }

  /** Write queued frames while the socket keeps below the high-water mark. */
  flush(): void {
    while (
      !this.closed &&
      this.outbox.size > 0 &&
      this.ws.readyState === this.ws.OPEN &&
      this.ws.bufferedAmount <= this.limits.highWater
    ) {
      const item = this.outbox.shift();
      if (item) this.write(item.data);
    }
  }

  /**
   * Hold a live metric frame until the connection's next paced delivery,
   * replacing the one of the same key that waits. The delivery is a timer,
   * even when it is already due (the first frame after a quiet spell), so
   * every frame of the same tick goes in it, in one write.
   */
  private pace(data: Buffer, key: string): void {
    if (this.paced.push({ data, key })) this.stats.conflated++;
    if (!this.pacedTimer) {
      const wait = Math.max(0, this.pacedAt + this.pacingMs - Date.now());
      this.pacedTimer = setTimeout(this.onPacedTime, wait);
      this.pacedTimer.unref();
    }
    this.checkBacklog();
  }

  /** Send every paced frame now, in order, through the usual path (outbox when the socket is full). */
  private releasePaced(): void {
    if (this.pacedTimer) {
      clearTimeout(this.pacedTimer);
      this.pacedTimer = undefined;
    }
    if (this.closed) this.stats.dropped += this.paced.clear();
    if (this.paced.size === 0) return;
    this.pacedAt = Date.now();
    const corked = this.cork();
    for (let item = this.paced.shift(); item; item = this.paced.shift()) {
      this.enqueue(item.data, item.key);
    }
    if (corked) this.uncork();
  }

  private enqueue(data: Buffer, key: string | null): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.outbox.size === 0 && this.ws.bufferedAmount <= this.limits.highWater) {
      this.write(data);
      return;
    }
    if (this.outbox.push({ data, key })) this.stats.conflated++;
    this.checkBacklog();
  }

  private write(frame: Buffer): void {
    if (this.raw) {
      this.raw.write(frame, this.onWritten);
      if (this.corked && this.raw.writableLength >= this.corkMaxBytes) {
        this.raw.uncork(); // write what is gathered, keep gathering the rest
        this.raw.cork();
      }
    } else {
      const opts = isFinal(frame) ? TEXT : TEXT_MORE;
      this.ws.send(framePayload(frame), opts, this.onWritten);
    }
    this.stats.framesOut++;
  }

  private checkBacklog(): void {
    if (this.backlogBytes <= this.limits.maxBacklog) return;
    this.stats.slowClosed++;
    this.close(WS_CLOSE.slowConsumer, 'slow consumer: reconnect and resume');
  }
}
