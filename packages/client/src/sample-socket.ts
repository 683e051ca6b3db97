import { WebSocket } from 'ws';
import { corkForTick, wsSocket } from '../../shared/src/ws-cork.js';
import { SendQueue } from './send-queue.js';
import {
  IngestSocketAnswer,
  type IngestSocketAnswer as Answer,
} from '../../shared/src/schemas/api.js';
import type { StrategySampleInput } from '../../shared/src/schemas/strategy-sample.js';
import type { z } from 'zod';

export interface SampleSocketOptions {
  /** `ws://collector:8081/v1/samples/ws` (or `wss://` behind a TLS proxy). */
  url: string;
  /** One of the collector's INGEST_TOKENS, sent as a bearer header at the upgrade. */
  token?: string;
  /** How long to wait for a connection (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * After a lost connection (a network cut, a collector restarting), connect
   * again and send every unanswered message again, in order (default true).
   * Give samples `id`s: a message written before the loss then comes back
   * as duplicates instead of being written twice.
   */
  reconnect?: boolean;
  /** Longest pause between attempts to connect again; they start at 100 ms and double (default 5 s). */
  maxBackoffMs?: number;
  /** Stop trying after this long without a connection: what waits is rejected (default 60 s). */
  giveUpAfterMs?: number;
}

type SampleInput = z.input<typeof StrategySampleInput>;

/** The connection closed before a message was answered: send it again (its ids make that safe). */
export class SampleSocketClosedError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`ingest socket closed (${code}${reason ? `: ${reason}` : ''}) before the answer`);
    this.name = 'SampleSocketClosedError';
  }
}

/** The collector refused the connection: 401 (token), 403 (a browser's Origin), 404, 503 (shutting down). */
export class SampleSocketRefusedError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`ingest socket refused: HTTP ${status} ${statusText}`.trim());
    this.name = 'SampleSocketRefusedError';
  }
}

interface Waiting {
  text: string;
  resolve: (a: Answer) => void;
  reject: (e: Error) => void;
  answered: Promise<Answer>;
}

/** Upgrade refusals that another attempt cannot fix (a wrong token, path or client). */
const PERMANENT = new Set([400, 401, 403, 404]);

function connectOnce(opts: SampleSocketOptions): Promise<WebSocket> {
  const ws = new WebSocket(opts.url, {
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(new SampleSocketRefusedError(res.statusCode ?? 0, res.statusMessage ?? ''));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/**
 * The collector's ingest socket, for a trading system that sends samples
 * one at a time: `send` does not wait for earlier answers, so many
 * messages are in flight on one connection, and each promise settles with
 * that message's answer (the collector answers in message order).
 *
 * An answer is what `POST /v1/samples` would have answered: `status` 202
 * with the counts, or 400/413 (nothing written: fix the message), 429 or
 * 503 (nothing written, or only part: send the same message again after
 * `retryAfterSeconds`; with `id`s only what is missing is written).
 *
 * A lost connection is reopened and the unanswered messages are sent again
 * in their order (`reconnect`); sends made meanwhile wait behind them.
 */
export class SampleSocket {
  /** Every message not answered yet, oldest first; the first `sent` went out on this connection. */
  private readonly waiting = new SendQueue<Waiting>();
  private sent = 0;
  private ws: WebSocket | undefined;
  private closedWith: Error | undefined;
  private closing = false;

  private constructor(
    private readonly opts: SampleSocketOptions,
    ws: WebSocket,
  ) {
    this.attach(ws);
  }

  /** Connect; rejects with the collector's refusal (401 unknown token, 404, 503). */
  static async open(opts: SampleSocketOptions): Promise<SampleSocket> {
    return new SampleSocket(opts, await connectOnce(opts));
  }

  /** Messages sent and not answered yet. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Send one sample or an array (one message); settles with its answer. */
  send(samples: SampleInput | readonly SampleInput[]): Promise<Answer> {
    return this.sendText(JSON.stringify(samples));
  }

  /** Send a message's text as is (already serialised JSON). */
  sendText(text: string): Promise<Answer> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    let resolve!: (a: Answer) => void;
    let reject!: (e: Error) => void;
    const answered = new Promise<Answer>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiting.push({ text, resolve, reject, answered });
    // While reconnecting it waits; the new connection sends everything in order.
    if (this.ws?.readyState === WebSocket.OPEN) {
      // Sends of one tick (a burst, or the next sends after a read of answers) leave in one write.
      corkForTick(wsSocket(this.ws));
      this.ws.send(text);
      this.sent++;
    }
    return answered;
  }

  /** Close after the answers in flight (default) or at once. */
  async close(opts: { wait?: boolean } = {}): Promise<void> {
    if (opts.wait !== false) await Promise.allSettled(Array.from(this.waiting, (w) => w.answered));
    this.closing = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.fail(new SampleSocketClosedError(1000, 'closed by the client'));
      return;
    }
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000);
    });
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    this.sent = 0;
    ws.on('message', (data, isBinary) => this.onAnswer(isBinary ? undefined : String(data)));
    ws.on('close', (code, reason) =>
      this.onClose(new SampleSocketClosedError(code, String(reason))),
    );
    ws.on('error', () => undefined); // 'close' follows
    // A new connection: everything unanswered goes out again, in order, in one write.
    corkForTick(wsSocket(ws));
    for (const w of this.waiting) ws.send(w.text);
    this.sent = this.waiting.length;
  }

  private onClose(err: SampleSocketClosedError): void {
    this.ws = undefined;
    if (this.closing || this.opts.reconnect === false) {
      this.fail(err);
      return;
    }
    void this.reconnect(err);
  }

  private async reconnect(cause: SampleSocketClosedError): Promise<void> {
    const giveUpAt = Date.now() + (this.opts.giveUpAfterMs ?? 60_000);
    let pause = 100;
    for (;;) {
      await new Promise((r) => setTimeout(r, pause));
      if (this.closing) return this.fail(cause);
      try {
        this.attach(await connectOnce(this.opts));
        return;
      } catch (err) {
        const permanent = err instanceof SampleSocketRefusedError && PERMANENT.has(err.status);
        if (permanent || Date.now() >= giveUpAt) {
          return this.fail(err as Error);
        }
      }
      pause = Math.min(pause * 2, this.opts.maxBackoffMs ?? 5_000);
    }
  }

  /** No more connections: every waiting message and every later send is rejected. */
  private fail(err: Error): void {
    this.closedWith = err;
    for (const w of this.waiting.drain()) w.reject(err);
    this.sent = 0;
  }

  private onAnswer(text: string | undefined): void {
    if (this.sent === 0) return;
    const w = this.waiting.shift()!;
    this.sent--;
    let parsed: ReturnType<typeof IngestSocketAnswer.safeParse> | undefined;
    try {
      parsed = text === undefined ? undefined : IngestSocketAnswer.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) w.resolve(parsed.data);
    else
      w.reject(new Error(`ingest socket: unexpected answer ${text?.slice(0, 200) ?? '(binary)'}`));
  }
}
