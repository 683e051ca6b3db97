import type { Socket } from 'node:net';
import { parseHead, type RequestHead } from './http1-head.js';
import type { FastAnswer, FastHttp, FastRoute } from './fast-http.js';

/**
 * One connection on the fast path (fast-http.ts): its requests read off
 * the socket, their answers written in request order, and its hand-over
 * to Node's server at the first request the fast path does not take.
 */

/** Unanswered requests on one connection past which it stops reading. */
const MAX_PENDING = 256;
/** Answer bytes waiting for a client that does not read them, past which it stops reading. */
const MAX_UNREAD_ANSWERS = 64 * 1024;

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
function answerHead(a: FastAnswer, close: boolean, keepAliveMs: number): string {
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

const EMPTY = Buffer.alloc(0);

export class FastConnection {
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
  /** The client half-closed: close once the last answer is written. */
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
  /** Every listener this connection puts on its socket (taken off at the hand-over). */
  private readonly listeners: [string, (chunk: Buffer) => void][] = [
    ['data', this.onData],
    ['end', this.onEnd],
    ['close', this.onGone],
    ['error', this.onGone],
    ['timeout', this.onTimeout],
    ['drain', this.onDrain],
  ];

  constructor(
    private readonly fast: FastHttp,
    private readonly socket: Socket,
  ) {
    for (const [event, listener] of this.listeners) socket.on(event, listener);
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
    if (route.answerTo) {
      // One closure per request, no promise (FastRoute says why). Inline, not
      // a named const: under tsx (npm start) each named closure made is also
      // named at run time (a defineProperty per request, 1.4 % of the
      // collector's CPU profile under pipelined posts). It keeps the target,
      // not the head, whose strings are slices of the whole head's text.
      const target = head.target;
      try {
        route.answerTo(head, body, (a, err) => this.replied(slot, target, a, err));
      } catch (err) {
        this.replied(slot, target, undefined, err);
      }
      return;
    }
    let answer: FastAnswer | Promise<FastAnswer>;
    try {
      answer = route.answer!(head, body);
    } catch (err) {
      answer = this.failed(err, head.target);
    }
    if (answer instanceof Promise) {
      answer.then(
        (a) => this.answered(slot, a),
        (err: unknown) => this.answered(slot, this.failed(err, head.target)),
      );
    } else {
      this.answered(slot, answer);
    }
  }

  /** A callback route's reply: the answer, or none and the error (500). */
  private replied(slot: Slot, url: string, a: FastAnswer | undefined, err: unknown): void {
    if (slot.answer) return; // answered already: a second reply is the route's bug
    this.answered(slot, a ?? this.failed(err, url));
  }

  private failed(err: unknown, url: string): FastAnswer {
    this.fast.log.error({ err, url }, 'request handler failed');
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
    for (const [event, listener] of this.listeners) s.off(event, listener);
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
