import { WebSocket } from 'ws';
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
  /** How long to wait for the connection (default 10 s). */
  connectTimeoutMs?: number;
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
 */
export class SampleSocket {
  private readonly waiting: {
    resolve: (a: Answer) => void;
    reject: (e: Error) => void;
    answered: Promise<Answer>;
  }[] = [];
  private closedWith: SampleSocketClosedError | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => this.onAnswer(isBinary ? undefined : String(data)));
    ws.on('close', (code, reason) => {
      this.closedWith = new SampleSocketClosedError(code, reason.toString());
      for (const w of this.waiting.splice(0)) w.reject(this.closedWith);
    });
    ws.on('error', () => undefined); // 'close' follows and rejects what waits
  }

  /** Connect; rejects with the collector's refusal (401 unknown token, 404, 503). */
  static open(opts: SampleSocketOptions): Promise<SampleSocket> {
    const ws = new WebSocket(opts.url, {
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
      perMessageDeflate: false,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new SampleSocket(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(
          new Error(`ingest socket refused: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`),
        );
        ws.terminate();
      });
      ws.once('error', reject);
    });
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
    this.waiting.push({ resolve, reject, answered });
    this.ws.send(text);
    return answered;
  }

  /** Close after the answers in flight (default) or at once. */
  async close(opts: { wait?: boolean } = {}): Promise<void> {
    if (opts.wait !== false) await Promise.allSettled(this.waiting.map((w) => w.answered));
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }

  private onAnswer(text: string | undefined): void {
    const w = this.waiting.shift();
    if (!w) return;
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
