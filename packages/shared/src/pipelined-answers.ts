import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * HTTP/1.1 pipelining: the answers of the requests a client sent back to
 * back leave in one socket write per event-loop turn, not one each.
 *
 * Why: Node's HTTP server hands a pipelined request's answer to the socket
 * only once the answer before it has been written (its write callback), so
 * 16 pipelined single-sample posts cost 16 `writev` system calls, each
 * running the loopback TCP stack for both ends. Profiled under
 * 16 x 16 pipelined posts that was 27 % of the collector's CPU
 * (docs/performance.md, "Pipelined answers in one write").
 *
 * How: on a socket seen pipelining (a request arrives while the answer
 * before it is unfinished: Node leaves that request's `res.socket` null),
 * the socket's writes are collected and written together at the end of
 * the turn (`setImmediate`), and each write's callback is called as soon
 * as it is collected, so the server moves on to the next answer at once.
 * A socket whose client waits for each answer is never touched.
 *
 * Why not `corkForTick` (ws-cork.ts), which batches ws's writes: a corked
 * write's callback waits for the uncork, and Node hands the socket to the
 * next answer only from that callback, so corking still writes one answer
 * per uncork.
 *
 * What holds: bytes leave in the order they were written; at most
 * `HOLD_BYTES` are acknowledged before they are written, past that a
 * write's callback waits for the real write, so a large body still waits
 * for a slow reader (backpressure); `end()` writes what is held before it
 * shuts the socket, and a socket destroyed within the turn hands the
 * kernel what is held first; a failed write destroys the socket with its
 * error.
 */

/** Bytes acknowledged before they reach the kernel; past this, writes wait as usual. */
export const HOLD_BYTES = 64 * 1024;

interface Entry {
  chunk: Buffer | string;
  encoding: BufferEncoding | 'buffer';
}
type Done = (err?: Error | null) => void;
type WritevFn = (entries: Entry[], cb: Done) => void;

/** The stream-implementer methods of net.Socket this replaces on one socket. */
interface SocketImpl {
  _write(chunk: Buffer | string, encoding: BufferEncoding, cb: Done): void;
  _writev(entries: Entry[], cb: Done): void;
  _final(cb: Done): void;
  _destroy(err: Error | null, cb: Done): void;
}

const coalescing = new WeakSet<Socket>();

/**
 * For an HTTP server's request handler: start collecting this socket's
 * writes if the request was pipelined behind an unfinished answer.
 * Cheap when not (one property read).
 */
export function coalesceIfPipelined(req: IncomingMessage, res: ServerResponse): void {
  if (res.socket === null) coalesceWrites(req.socket);
}

/** Collect a socket's writes into one write per event-loop turn (idempotent). */
export function coalesceWrites(socket: Socket): void {
  if (coalescing.has(socket)) return;
  coalescing.add(socket);
  const impl = socket as unknown as SocketImpl;
  const writev: WritevFn = impl._writev.bind(socket);
  const final = impl._final.bind(socket);
  const destroy = impl._destroy.bind(socket);
  const held = new WriteHold(socket, writev);
  impl._write = (chunk, encoding, cb) => held.add([{ chunk, encoding }], cb);
  impl._writev = (entries, cb) => held.add(entries, cb);
  impl._final = (cb) => held.whenWritten(() => final(cb));
  // Destroyed within the turn (closeIdleConnections at shutdown): hand the
  // kernel what is held first, as Node alone would already have.
  impl._destroy = (err, cb) => {
    held.flush();
    destroy(err, cb);
  };
}

/** One socket's writes waiting for the end of the turn. */
class WriteHold {
  private entries: Entry[] = [];
  /** Callbacks of writes past HOLD_BYTES: called when their bytes are written. */
  private waiting: Done[] = [];
  private bytes = 0;
  /** Bytes handed to the socket whose write has not completed. */
  private writing = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly writev: WritevFn,
  ) {}

  add(entries: readonly Entry[], cb: Done): void {
    for (const e of entries) {
      this.entries.push({ chunk: e.chunk, encoding: e.encoding });
      this.bytes += typeof e.chunk === 'string' ? Buffer.byteLength(e.chunk) : e.chunk.length;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (this.bytes + this.writing <= HOLD_BYTES) cb();
    else this.waiting.push(cb);
  }

  /** Run `then` once nothing is held or being written (flushing now if need be). */
  whenWritten(then: () => void): void {
    if (this.entries.length === 0 && this.writing === 0) {
      then();
      return;
    }
    this.idle.push(then);
    this.flush();
  }

  flush(): void {
    this.scheduled = false;
    if (this.entries.length === 0) return;
    const entries = this.entries;
    const waiting = this.waiting;
    const bytes = this.bytes;
    this.entries = [];
    this.waiting = [];
    this.bytes = 0;
    this.writing += bytes;
    this.writev(entries, (err) => {
      this.writing -= bytes;
      if (err) this.socket.destroy(err);
      for (const cb of waiting) cb(err);
      if (this.entries.length === 0 && this.writing === 0) {
        const idle = this.idle;
        this.idle = [];
        for (const then of idle) then();
      }
    });
  }
}
