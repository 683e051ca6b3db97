import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  batchWriteOrder,
  corkForTick,
  refuseUpgrade,
  wsSocket,
  type IngestSocketRefused,
  type Logger,
  type StrategySample,
} from '@quantmon/shared';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AnswerQueue } from './ingest-answers.js';
import { ReadFlow, type FlowLimits } from './read-flow.js';
import {
  socketAcceptedAnswer,
  authorised,
  checkPressure,
  HttpError,
  parseIngest,
  writeIngest,
  type IngestOptions,
} from './ingest.js';
import { sliceResult, type RequestResult } from './write-coalescer.js';

/** Where trading systems open the ingest socket (public contract). */
export const INGEST_SOCKET_PATH = '/v1/samples/ws';

/** `maxPending` and `maxBufferedBytes` bound what one connection can queue in the collector (read-flow.ts). */
export interface IngestSocketOptions extends FlowLimits {
  server: Server;
  ingest: IngestOptions;
  log: Logger;
  /** Ping period; a connection that missed a pong is dropped. */
  heartbeatMs: number;
  /** How long shutdown waits for unanswered messages (writes in flight) before closing. */
  closeWaitMs: number;
  /** Each answer's status (metrics). */
  onAnswered?: (status: number) => void;
}

/** Samples in one write of a pass (the group commit's own size). */
const PASS_SAMPLES = 1000;

/** A message's validated samples, waiting for its pass's write. */
interface Taken {
  seq: number;
  samples: StrategySample[];
}

/** One message waiting for its turn to be checked and queued for writing. */
interface Inbound {
  seq: number;
  /** null: a binary message (refused with 415). */
  text: string | null;
}

class IngestConnection {
  readonly answers = new AnswerQueue();
  readonly inbox: Inbound[] = [];
  readonly flow: ReadFlow;
  draining = false;
  alive = true;
  closed = false;
  /** Shutdown has paused it for good: flow control must not resume it. */
  stopped = false;

  constructor(
    readonly ws: WebSocket,
    readonly raw: Duplex | undefined,
    limits: FlowLimits,
  ) {
    this.flow = new ReadFlow(
      {
        pause: () => ws.pause(),
        resume: () => {
          if (!this.stopped && !this.closed) ws.resume();
        },
        buffered: () => ws.bufferedAmount,
        pending: () => this.answers.pending,
        // Without the raw socket (not expected), look again shortly.
        onceDrained: (cb) => (raw ? raw.once('drain', cb) : setTimeout(cb, 10)),
      },
      limits,
    );
  }

  /** Send released answers; a tick's answers leave in one socket write. */
  send(answers: readonly string[]): void {
    if (this.closed || answers.length === 0) return;
    corkForTick(this.raw);
    for (const a of answers) this.ws.send(a);
  }
}

/**
 * `GET /v1/samples/ws` (WebSocket): samples pushed over one long-lived
 * connection, for trading systems that send one sample at a time. Each text
 * message is the body of a `POST /v1/samples` (one sample or an array) and
 * gets one answer, in message order, with what the POST would have
 * answered. A message costs the collector a WebSocket frame instead of an
 * HTTP request and response, which is most of a single-sample post's cost.
 *
 * Messages of one connection are checked and queued for writing in the
 * order they arrive, so a strategy's samples keep their order; several
 * writes can be in flight (the collector's group commit shares them with
 * HTTP posts). Same auth (INGEST_TOKENS, as a bearer header at the
 * upgrade), validation, idempotency and 429 as the POST.
 */
export class IngestSockets {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<IngestConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: IngestSocketOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.ingest.maxBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    opts.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.heartbeat = setInterval(() => this.reap(), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Messages taken and not yet answered, over every connection. */
  get unanswered(): number {
    let n = 0;
    for (const c of this.conns) n += c.answers.pending;
    return n;
  }

  /**
   * Stop taking connections, answer what was taken (its writes finish),
   * then close every connection with 1001.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      const deadline = Date.now() + this.opts.closeWaitMs;
      for (const c of this.conns) {
        c.stopped = true;
        c.ws.pause();
      }
      while ([...this.conns].some((c) => c.answers.pending > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const c of this.conns) {
        // Read again so the client's close frame arrives (messages are ignored from now on).
        c.ws.resume();
        c.ws.close(1001, 'collector shutting down');
      }
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== INGEST_SOCKET_PATH) return refuseUpgrade(socket, 404, 'not found');
    if (this.closing) return refuseUpgrade(socket, 503, 'shutting down');
    // Browsers send Origin and programs do not: a web page must not push
    // samples through a visitor's browser (WebSockets skip CORS).
    if (req.headers.origin !== undefined) {
      return refuseUpgrade(socket, 403, 'the ingest socket is for programs, not browser pages');
    }
    if (!authorised(req.headers.authorization ?? '', this.opts.ingest.tokens)) {
      return refuseUpgrade(socket, 401, 'missing or invalid bearer token');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    // An upgrade that completed after shutdown began: close() no longer sees it.
    if (this.closing) {
      ws.close(1001, 'collector shutting down');
      return;
    }
    const c = new IngestConnection(ws, wsSocket(ws), this.opts);
    this.conns.add(c);
    ws.on('pong', () => (c.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(c, data, isBinary));
    ws.on('close', () => {
      c.closed = true;
      this.conns.delete(c);
    });
    ws.on('error', (err) => this.opts.log.debug({ err: err.message }, 'ingest socket error'));
  }

  private onMessage(c: IngestConnection, data: RawData, isBinary: boolean): void {
    // Shutting down: what arrives now stays unanswered and unwritten (the
    // client sends it again elsewhere; its ids make a doubt harmless).
    if (this.closing) return;
    const seq = c.answers.reserve();
    c.inbox.push({ seq, text: isBinary ? null : rawText(data) });
    c.flow.update();
    if (!c.draining) void this.drain(c);
  }

  /**
   * Check and queue the inbox in message order. The messages read since the
   * last pass are checked together and queued as one write (the group
   * commit would have joined them anyway), so a message costs its parse
   * and its answer, not a request of its own. A pass waits only for the lag
   * check and the benchmark fill, not for its write, so several of one
   * connection's writes can be in flight, and they leave in pass order.
   */
  private async drain(c: IngestConnection): Promise<void> {
    c.draining = true;
    const opts = this.opts.ingest;
    while (c.inbox.length > 0) {
      const pass = c.inbox.splice(0);
      let pressure: unknown;
      try {
        const pending = checkPressure(opts);
        if (pending) await pending;
      } catch (err) {
        pressure = err;
      }
      let taken: Taken[] = [];
      let samples = 0;
      const receivedAt = Date.now();
      for (const { seq, text } of pass) {
        try {
          if (text === null) {
            throw new HttpError(415, { error: 'messages must be text frames holding JSON' });
          }
          if (pressure) throw pressure;
          const t = { seq, samples: parseIngest(text, opts, receivedAt) };
          taken.push(t);
          samples += t.samples.length;
        } catch (err) {
          this.refuse(c, seq, err);
        }
        // A write of about the group commit's size; a long pass becomes several.
        if (samples >= PASS_SAMPLES) {
          await this.write(c, taken);
          taken = [];
          samples = 0;
        }
      }
      if (taken.length > 0) await this.write(c, taken);
    }
    c.draining = false;
  }

  /** Fill and queue one write for `taken`; resolves once it is queued, not written. */
  private async write(c: IngestConnection, taken: Taken[]): Promise<void> {
    const opts = this.opts.ingest;
    try {
      const all = taken.length === 1 ? taken[0]!.samples : taken.flatMap((t) => t.samples);
      const f = opts.fill ? opts.fill(all) : all;
      const filled = Array.isArray(f) ? f : await f;
      writeIngest(filled, opts).then(
        (r) => this.answerPass(c, taken, r),
        (err: unknown) => {
          for (const t of taken) this.refuse(c, t.seq, err);
        },
      );
    } catch (err) {
      for (const t of taken) this.refuse(c, t.seq, err);
    }
  }

  /** Each message's share of its pass's write, answered as its own POST would have been. */
  private answerPass(c: IngestConnection, taken: readonly Taken[], r: RequestResult): void {
    if (taken.length === 1) {
      this.answer(c, taken[0]!.seq, socketAcceptedAnswer(taken[0]!.seq, r), 202);
      return;
    }
    let at = 0;
    for (const { seq, samples } of taken) {
      const n = samples.length;
      // `reordered` as the message alone would have been: what the client sent out of order.
      const reordered = n === 1 ? 0 : batchWriteOrder(samples).reordered;
      const share = sliceResult(r.outcomes.slice(at, at + n), reordered);
      at += n;
      this.answer(c, seq, socketAcceptedAnswer(seq, share), 202);
    }
  }

  private refuse(c: IngestConnection, seq: number, err: unknown): void {
    if (!(err instanceof HttpError)) {
      this.opts.log.error({ err }, 'ingest socket message failed');
      err = new HttpError(500, { error: 'internal error' });
    }
    const e = err as HttpError;
    this.opts.ingest.onRejected?.(e.status);
    const retry = Number(e.headers['retry-after']);
    const a: IngestSocketRefused = {
      seq,
      status: e.status,
      ...e.body,
      ...(retry > 0 ? { retryAfterSeconds: retry } : {}),
    };
    this.answer(c, seq, JSON.stringify(a), e.status);
  }

  private answer(c: IngestConnection, seq: number, text: string, status: number): void {
    this.opts.onAnswered?.(status);
    c.send(c.answers.settle(seq, text));
    c.flow.update();
  }

  private reap(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
