import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './logger.js';
import { parseHead, type RequestHead } from './http1-head.js';

/**
 * A fast path beside Node's HTTP server for one hot request, a trading
 * system posting one sample per request, pipelined on keep-alive sockets.
 *
 * Why: under 16 x 16 pipelined single-sample posts, Node's HTTP server
 * alone took ~25 µs of CPU per request on a 2-core host (its request and
 * response objects, header objects, streams and events), more than the
 * rest of the pipeline spends on the sample; the same requests read off
 * the socket and answered with prepared bytes took ~3.5 µs
 * (docs/performance.md, "A fast path for single-sample posts").
 *
 * How: the server's connections come here first. Requests whose head
 * parses plainly (http1-head.ts) and that a route takes are read off the
 * socket, answered by the route, and their answers written in request
 * order, those ready in the same turn in one write. The first request
 * that is anything else (another path, a chunked body, an upgrade, a
 * malformed head, a body over the route's limit) hands the connection to
 * Node's server for good: once every answer before it has been written,
 * the unread bytes are put back on the socket and Node's own connection
 * handler takes it, so Node parses and answers from that request on,
 * exactly as without the fast path.
 *
 * What holds: answers leave in request order; a connection with more than
 * MAX_PENDING unanswered requests stops reading until they are answered
 * (backpressure, as Node's server pauses a socket with answers queued);
 * `Connection: close` is answered and then closed; a client that
 * half-closes gets the answers of what the fast path took, then the
 * close (Node's server answers none of a half-closed pipeline); a
 * connection idle for the server's `keepAliveTimeout`, or whose request
 * has been arriving for longer than its `headersTimeout` (the head) or
 * `requestTimeout` (the whole request), is closed.
 */

export interface FastAnswer {
  status: number;
  body: Buffer;
  /** Extra headers (lower-case names), e.g. `retry-after`. */
  headers?: Record<string, string>;
}

export interface FastRoute {
  /** Whether this route answers a request with this head. */
  takes(head: RequestHead): boolean;
  /** Bodies declared longer are left to Node's server (the route's slow path answers 413). */
  maxBytes: number;
  answer(head: RequestHead, body: Buffer): FastAnswer | Promise<FastAnswer>;
}

type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * Why a connection went to Node's server: its request's head was not
 * plain (`not-plain`), no fast route takes the request (`other-request`),
 * or its body is over the route's limit (`over-limit`).
 */
export type HandOverReason = 'not-plain' | 'other-request' | 'over-limit';

/** Unanswered requests on one connection past which it stops reading. */
export const MAX_PENDING = 256;
/** Answer bytes waiting for a client that does not read them, past which it stops reading. */
export const MAX_UNREAD_ANSWERS = 64 * 1024;

const REASONS: Record<number, string> = {
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const INTERNAL_ERROR: FastAnswer = {
  status: 500,
  body: Buffer.from(JSON.stringify({ error: 'internal error' })),
};

/** The `date` header's value, made once a second. */
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Status line and headers of an answer, as Node's server would send them. */
export function answerHead(a: FastAnswer, close: boolean, keepAliveMs: number): string {
  let text =
    `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? 'Unknown'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${a.body.length}\r\ncache-control: no-store\r\n`;
  if (a.headers)
    for (const [name, value] of Object.entries(a.headers)) text += `${name}: ${value}\r\n`;
  text += `date: ${httpDate()}\r\n`;
  text += close
    ? 'connection: close\r\n\r\n'
    : `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`;
  return text;
}

/** One request's place in its connection's answer order. */
interface Slot {
  answer: FastAnswer | undefined;
  close: boolean;
}

/** The fast path of one server: its routes, and its open connections for shutdown. */
export class FastHttp {
  private readonly open = new Set<FastConnection>();
  private closing = false;

  constructor(
    readonly server: Server,
    readonly routes: readonly FastRoute[],
    readonly log: Logger,
    /** Node's own connection handler, for connections handed over. */
    readonly nodeListener: ConnectionListener,
    /** Hears of each connection handed to Node's server (a metric). */
    readonly onHandOver?: (reason: HandOverReason) => void,
  ) {}

  /**
   * Put the fast path in front of Node's handler on `server`: its
   * 'connection' listener (there is one, Node's) is replaced by ours.
   */
  static install(
    server: Server,
    routes: readonly FastRoute[],
    log: Logger,
    onHandOver?: (reason: HandOverReason) => void,
  ): FastHttp {
    const listeners = server.listeners('connection') as ConnectionListener[];
    if (listeners.length !== 1) {
      throw new Error(
        `fast path: expected Node's one connection listener, found ${listeners.length}`,
      );
    }
    const nodeListener = listeners[0]!;
    const fast = new FastHttp(server, routes, log, nodeListener, onHandOver);
    server.removeListener('connection', nodeListener);
    server.on('connection', (socket: Socket) => fast.accept(socket));
    return fast;
  }

  accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new FastConnection(this, socket);
    this.open.add(conn);
  }

  /** Called by a connection when it closes or is handed to Node. */
  forget(conn: FastConnection): void {
    this.open.delete(conn);
  }

  /** At shutdown: idle connections close now, busy ones once answered. */
  closeIdle(): void {
    this.closing = true;
    for (const c of this.open) c.closeWhenIdle();
  }

  /** At shutdown's deadline: every connection still open is destroyed. */
  closeAll(): void {
    for (const c of this.open) c.destroy();
  }
}

const EMPTY = Buffer.alloc(0);

class FastConnection {
  private buf: Buffer = EMPTY;
  /**
   * Chunks of a body still arriving, joined once `need` bytes are here: a
   * large batch in many packets is copied once, not once per packet.
   */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private need = 0;
  private readonly slots: Slot[] = [];
  private flushScheduled = false;
  /** Set once a request that is not ours arrived: the bytes Node will parse. */
  private handOver: Buffer | undefined;
  private paused = false;
  /** The client half-closed, or we are to close after the last answer. */
  private ending = false;
  private closeAfterAnswers = false;
  private gone = false;
  /** When the request now arriving began to arrive (0: none in part). */
  private partialSince = 0;

  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onEnd = (): void => {
    this.ending = true;
    this.finishIfDone();
  };
  private readonly onTimeout = (): void => {
    // Idle (nothing unanswered): the keep-alive timeout; a request still
    // arriving or unanswered is judged by overdue() in data().
    if (this.slots.length === 0) this.socket.destroy();
  };
  private readonly onDrain = (): void => this.maybeResume();
  private readonly onGone = (): void => {
    this.gone = true;
    this.fast.forget(this);
  };

  constructor(
    private readonly fast: FastHttp,
    private readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onGone);
    socket.on('error', this.onGone);
    socket.on('timeout', this.onTimeout);
    socket.on('drain', this.onDrain);
    socket.setTimeout(fast.server.keepAliveTimeout);
  }

  private data(chunk: Buffer): void {
    if (this.handOver) {
      // Read before the pause took hold: Node's to parse too.
      this.handOver = Buffer.concat([this.handOver, chunk]);
      return;
    }
    if (this.closeAfterAnswers) return; // nothing after `Connection: close` is read
    if (this.need > 0) {
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
      if (this.partsBytes < this.need) {
        this.overdue(false);
        return;
      }
      this.buf = Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
      this.need = 0;
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    let off = 0;
    const { routes } = this.fast;
    while (off < this.buf.length) {
      const head = parseHead(this.buf, off);
      if (head === 'incomplete') break;
      const route = head === 'decline' ? undefined : routes.find((r) => r.takes(head));
      if (head === 'decline' || !route || head.contentLength > route.maxBytes) {
        this.fast.onHandOver?.(
          head === 'decline' ? 'not-plain' : !route ? 'other-request' : 'over-limit',
        );
        this.handOff(this.buf.subarray(off));
        return;
      }
      const bodyEnd = off + head.length + head.contentLength;
      if (bodyEnd > this.buf.length) {
        this.need = bodyEnd - off;
        break;
      }
      this.request(route, head, this.buf.subarray(off + head.length, bodyEnd));
      off = bodyEnd;
      if (head.close) {
        // Nothing after a `Connection: close` request is read.
        this.closeAfterAnswers = true;
        this.pause();
        this.buf = EMPTY;
        return;
      }
    }
    this.buf = off === this.buf.length ? EMPTY : this.buf.subarray(off);
    if (this.need > 0) {
      this.parts = [this.buf];
      this.partsBytes = this.buf.length;
      this.buf = EMPTY;
    }
    if (this.overdue(off > 0)) return;
    if (this.slots.length >= MAX_PENDING || this.socket.writableLength > MAX_UNREAD_ANSWERS) {
      this.pause();
    }
  }

  /**
   * Whether the request now arriving has been arriving for longer than
   * Node's server allows one (a client trickling bytes to hold a
   * connection): its head for `headersTimeout` (60 s), the whole request
   * for `requestTimeout` (300 s). Then the connection is closed.
   * `started`: a request was completed in this read, so what is left
   * began now.
   */
  private overdue(started: boolean): boolean {
    if (this.buf.length === 0 && this.need === 0) {
      this.partialSince = 0;
      return false;
    }
    const now = Date.now();
    const { headersTimeout, requestTimeout } = this.fast.server;
    // need > 0: the head is in, its body is still coming.
    const limit = this.need > 0 ? requestTimeout : headersTimeout;
    if (started || this.partialSince === 0) this.partialSince = now;
    else if (limit > 0 && now - this.partialSince > limit) {
      this.destroy();
      return true;
    }
    return false;
  }

  private request(route: FastRoute, head: RequestHead, body: Buffer): void {
    const slot: Slot = { answer: undefined, close: head.close };
    this.slots.push(slot);
    let answer: FastAnswer | Promise<FastAnswer>;
    try {
      answer = route.answer(head, body);
    } catch (err) {
      answer = this.failed(err, head);
    }
    if (answer instanceof Promise) {
      answer.then(
        (a) => this.answered(slot, a),
        (err: unknown) => this.answered(slot, this.failed(err, head)),
      );
    } else {
      this.answered(slot, answer);
    }
  }

  private failed(err: unknown, head: RequestHead): FastAnswer {
    this.fast.log.error({ err, url: head.target }, 'request handler failed');
    return INTERNAL_ERROR;
  }

  private answered(slot: Slot, answer: FastAnswer): void {
    slot.answer = answer;
    // Answers ready in the same turn (a coalesced write answers many) leave in one write.
    if (!this.flushScheduled && slot === this.slots[0]) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.gone) return;
    const keepAliveMs = this.fast.server.keepAliveTimeout;
    let n = 0;
    this.socket.cork();
    while (n < this.slots.length && this.slots[n]!.answer) {
      const slot = this.slots[n++]!;
      const last = slot.close || (this.closeAfterAnswers && n === this.slots.length);
      this.socket.write(answerHead(slot.answer!, last, keepAliveMs), 'latin1');
      this.socket.write(slot.answer!.body);
    }
    this.socket.uncork();
    this.slots.splice(0, n);
    this.maybeResume();
    this.finishIfDone();
  }

  /** Read again once the answers are mostly written and the client reads them. */
  private maybeResume(): void {
    if (
      this.paused &&
      !this.closeAfterAnswers &&
      !this.handOver &&
      this.slots.length < MAX_PENDING / 2 &&
      this.socket.writableLength <= MAX_UNREAD_ANSWERS
    ) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  /** Once every answer is written: hand over, or close. */
  private finishIfDone(): void {
    if (this.slots.length > 0 || this.gone) return;
    if (this.handOver) this.toNode(this.handOver);
    else if (this.closeAfterAnswers || this.ending) this.socket.end();
  }

  private handOff(rest: Buffer): void {
    this.handOver = rest;
    this.buf = EMPTY;
    this.pause();
    this.finishIfDone();
  }

  /**
   * Node's handler takes the socket from here: our listeners off, the
   * unread bytes back in front of the socket's buffer, then Node's
   * connection listener, which reads from the buffer first.
   */
  private toNode(rest: Buffer): void {
    const s = this.socket;
    if (s.readableEnded) {
      // The client half-closed: nothing can be put back on a finished
      // stream, and Node's server would abort what follows a half-close
      // unanswered anyway (it answers none of a half-closed pipeline).
      this.fast.forget(this);
      s.end();
      return;
    }
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onGone);
    s.off('error', this.onGone);
    s.off('timeout', this.onTimeout);
    s.off('drain', this.onDrain);
    s.setTimeout(0);
    this.fast.forget(this);
    if (rest.length > 0) s.unshift(rest);
    this.fast.nodeListener.call(this.fast.server, s);
    // Resumed in the same turn: the bytes put back reach Node's parser
    // before any new bytes the socket reads.
    s.resume();
  }

  closeWhenIdle(): void {
    this.closeAfterAnswers = true;
    this.pause();
    this.finishIfDone();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
