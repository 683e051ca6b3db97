import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  fastStrategySampleInput,
  sampleIssues,
  sendJson,
  sendJsonBytes,
  StrategySampleInput,
  tokenMatches,
  type ErrorBody,
  type IngestAccepted,
  type IngestSocketAccepted,
  type Logger,
  type StrategySample,
} from '@quantmon/shared';
import type { Backpressure } from './backpressure.js';
import type { RequestResult, WriteDone } from './write-coalescer.js';
import { z } from 'zod';

export interface IngestOptions {
  tokens: string[];
  maxBatch: number;
  maxBytes: number;
  /** INGEST_MAX_FUTURE_MS: a ts further ahead of the clock is refused (400); 0 or absent: no limit. */
  maxFutureMs?: number;
  /**
   * Write a validated batch: each partition's share atomically (idempotent,
   * ordered); `done` hears the result, or an error unless every share was
   * written (Redis, or the node of one partition, unavailable): answered
   * 503, and a retry with the same ids writes only what is missing. A
   * callback, not a promise: the fast path's posts wait in it by the
   * thousand (WriteCoalescer.enqueue says why).
   */
  submit: (samples: StrategySample[], done: WriteDone) => void;
  /**
   * Complete a validated batch before it is written (the catalogue's
   * benchmark returns). Separate from `submit` so the ingest socket can run
   * it in message order and still have several writes in flight: `submit`
   * queues its batch when called, so batches leave in the order of calls.
   */
  fill?: (samples: StrategySample[]) => StrategySample[] | Promise<StrategySample[]>;
  /** Answers when the stream behind ingest is too far behind (429). */
  backpressure?: () => Backpressure | undefined | Promise<Backpressure | undefined>;
  onRejected?: (status: number) => void;
  onAccepted?: (result: RequestResult) => void;
  /** Where a failed write's cause is logged (the client gets no internals). */
  log?: Logger;
}

/** A refusal: the HTTP status and body (the ingest socket sends the same in its answer). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error);
  }
}

/**
 * Read the body, refusing to buffer more than maxBytes. On overflow the
 * rest of the upload is left to drain (the caller resumes the request
 * after answering 413), so the client reads the answer instead of a reset.
 */
function readBody(req: IncomingMessage, maxBytes: number): string | Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    return Promise.reject(new HttpError(413, { error: `body over ${maxBytes} bytes` }));
  }
  const whole = bodyArrived(req, declared);
  if (whole !== undefined) return whole;
  // Listeners stay attached until the request is gone (a settled promise
  // ignores the rest); named closures made per request cost the collector
  // ~3.6 % of its CPU on single-sample posts under npm start (tsx names each).
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return; // draining after a 413
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, { error: `body over ${maxBytes} bytes` }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err: Error) => {
      reject(new HttpError(400, { error: `request body not received: ${err.message}` }));
    });
  });
}

/**
 * The body at once when all of it has arrived: a small POST comes in the
 * packet of its headers, and by the time the handler has awaited anything
 * Node's parser has put its Content-Length bytes in the request's buffer
 * (the message may not be marked complete yet: that is the parser's next
 * callback). Read from the buffer, it costs no listeners, promise or 'data'
 * and 'end' events. Undefined when the body is still coming, has no
 * declared length (chunked), or is already being read: the listeners' path.
 */
function bodyArrived(req: IncomingMessage, declared: number): string | undefined {
  if (declared <= 0 || req.readableFlowing !== null || req.readableLength < declared) {
    return undefined;
  }
  const chunks: Buffer[] = [];
  for (let c = req.read() as Buffer | null; c !== null; c = req.read() as Buffer | null) {
    chunks.push(c);
  }
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

/** What ingest reads of a request's head (Node's server and the fast path both give it). */
export interface IngestHead {
  /** Empty when absent. */
  authorization: string;
  /** Empty when absent. */
  contentType: string;
}

export function authorised(authorization: string, tokens: string[]): boolean {
  if (tokens.length === 0) return true;
  const m = /^Bearer\s+(.+)$/i.exec(authorization);
  // Constant-time: the time taken says nothing about how much of a token was right.
  return m?.[1] !== undefined && tokenMatches(m[1].trim(), tokens);
}

/** What validation needs of the options: the batch limit and the clock's tolerance. */
export type IngestLimits = Pick<IngestOptions, 'maxBatch' | 'maxFutureMs'>;

/**
 * Validate a parsed body: a single sample or an array. Every bad field of
 * every item is named; one bad item rejects the whole batch.
 */
export function validateIngest(
  json: unknown,
  limits: IngestLimits,
  receivedAt: number,
): StrategySample[] {
  const samples = validateShape(json, limits.maxBatch, receivedAt);
  if (limits.maxFutureMs)
    refuseFuture(samples, !Array.isArray(json), limits.maxFutureMs, receivedAt);
  return samples;
}

/**
 * With INGEST_MAX_FUTURE_MS, a ts further ahead of the collector's clock
 * than that is refused, every such item named: written, it would become
 * its strategy's latest, and every real sample after it would be older and
 * skipped as out of order until the clock caught up.
 */
function refuseFuture(
  samples: readonly StrategySample[],
  single: boolean,
  maxFutureMs: number,
  now: number,
): void {
  const issues: { path: string; message: string }[] = [];
  samples.forEach((s, i) => {
    const ahead = s.ts - now;
    if (ahead <= maxFutureMs) return;
    issues.push({
      path: single ? 'ts' : `[${i}].ts`,
      message:
        `${new Date(s.ts).toISOString()} is ${aheadText(ahead)} ahead of the collector's clock; ` +
        `at most ${maxFutureMs} ms ahead is accepted (INGEST_MAX_FUTURE_MS)`,
    });
  });
  if (issues.length > 0) throw new HttpError(400, { error: 'invalid samples', issues });
}

/** "3 h 12 min", "45 s", "2 d 4 h": how far ahead, for a person. */
export function aheadText(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function validateShape(json: unknown, maxBatch: number, receivedAt: number): StrategySample[] {
  if (Array.isArray(json) && json.length > maxBatch) {
    throw new HttpError(413, {
      error: `batch of ${json.length} samples is over the limit of ${maxBatch}`,
    });
  }
  const single = !Array.isArray(json);
  // The common shape (epoch-ms ts, known fields) is checked by hand; anything
  // else goes through the schema, which also names every bad field.
  const fast = single
    ? fastStrategySampleInput(json)
    : json.length > 0 && json.every(fastStrategySampleInput);
  if (fast) {
    // The parsed body's own objects, stamped in place: a copy of each was
    // one more object per sample for the garbage collector.
    const items = (single ? [json] : json) as StrategySample[];
    for (const s of items) s.receivedAt = receivedAt;
    return items;
  }
  const parsed = single
    ? StrategySampleInput.safeParse(json)
    : z.array(StrategySampleInput).min(1).safeParse(json);
  if (!parsed.success) {
    throw new HttpError(400, { error: 'invalid samples', issues: sampleIssues(parsed.error) });
  }
  const items = (single ? [parsed.data] : parsed.data) as z.infer<typeof StrategySampleInput>[];
  return items.map((s) => ({ ...s, receivedAt }));
}

/** The 202 body: counts, and which samples were skipped as out of order. */
export function acceptedBody(result: RequestResult): IngestAccepted {
  const outOfOrderIndexes: number[] = [];
  result.outcomes.forEach((o, i) => {
    if (o === 'out-of-order') outOfOrderIndexes.push(i);
  });
  return {
    accepted: result.accepted,
    duplicates: result.duplicates,
    outOfOrder: result.outOfOrder,
    outOfOrderIndexes,
    late: result.late,
    reordered: result.reordered,
  };
}

/**
 * The 202 of the commonest outcome, every sample of a small batch written in
 * order (a single-sample post, over and over), as bytes made once: a
 * JSON.stringify and a UTF-8 encoding less per request. Anything else is
 * serialised as it comes.
 */
const PLAIN_ACCEPTED = Array.from({ length: 17 }, (_, n) =>
  Buffer.from(
    JSON.stringify(
      acceptedBody({
        accepted: n,
        duplicates: 0,
        outOfOrder: 0,
        late: 0,
        reordered: 0,
        outcomes: [],
      }),
    ),
  ),
);

/** The same bodies' text after their `{`, for the ingest socket's answers. */
const PLAIN_ACCEPTED_FIELDS = PLAIN_ACCEPTED.map((b) => b.toString('utf8').slice(1));

/** Whether a result is one of the commonest outcomes: every sample written, in order. */
const plainIndex = (result: RequestResult): number =>
  result.duplicates === 0 && result.outOfOrder === 0 && result.late === 0 && result.reordered === 0
    ? result.accepted
    : -1;

/** The 202 body's bytes: `acceptedBody` as JSON, made once for the commonest outcomes. */
export function acceptedAnswer(result: RequestResult): Buffer {
  return PLAIN_ACCEPTED[plainIndex(result)] ?? Buffer.from(JSON.stringify(acceptedBody(result)));
}

/**
 * The ingest socket's answer to an accepted message (`IngestSocketAccepted`
 * as JSON): for the commonest outcomes the cached body's fields after the
 * sequence number and status, one concatenation instead of an object and a
 * JSON.stringify per message (4 % of the collector's CPU profile under
 * 4 x 256 messages in flight).
 */
export function socketAcceptedAnswer(seq: number, result: RequestResult): string {
  const fields = PLAIN_ACCEPTED_FIELDS[plainIndex(result)];
  if (fields !== undefined) return `{"seq":${seq},"status":202,${fields}`;
  const a: IngestSocketAccepted = { seq, status: 202, ...acceptedBody(result) };
  return JSON.stringify(a);
}

/**
 * Throws 429 while the scorer is too far behind. Synchronous (undefined)
 * when the gate answers from its cached reading, as it does for all but
 * the first request of each period: callers await only a promise.
 */
export function checkPressure(opts: IngestOptions): void | Promise<void> {
  const pressure = opts.backpressure?.();
  if (pressure instanceof Promise) return pressure.then(refuseUnder);
  refuseUnder(pressure);
}

function refuseUnder(pressure: Backpressure | undefined): void {
  if (pressure) {
    throw new HttpError(
      429,
      {
        error: `ingest paused: the scorer is ${pressure.lag} samples behind; retry after ${pressure.retryAfterSeconds} s`,
      },
      { 'retry-after': String(pressure.retryAfterSeconds) },
    );
  }
}

/** A body's text to validated samples (400 naming what is wrong, 413 over the batch limit). */
export function parseIngest(
  text: string,
  limits: IngestLimits,
  receivedAt: number,
): StrategySample[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, { error: `body is not valid JSON: ${(err as Error).message}` });
  }
  return validateIngest(json, limits, receivedAt);
}

/**
 * Write validated samples: 503 when the write failed (a retry with the same
 * ids writes only what is missing). `opts.submit` is called synchronously,
 * so calls queue their batches in call order.
 */
export async function writeIngest(
  samples: StrategySample[],
  opts: IngestOptions,
): Promise<RequestResult> {
  let result: RequestResult;
  try {
    result = await new Promise<RequestResult>((resolve, reject) =>
      opts.submit(samples, (err, r) => (r ? resolve(r) : reject(err))),
    );
  } catch (err) {
    throw writeFailed(err, opts);
  }
  opts.onAccepted?.(result);
  return result;
}

/** A failed write's refusal: 503, retry (the cause is logged, never sent). */
export function writeFailed(err: unknown, opts: IngestOptions): HttpError {
  // The cause goes to the log, never to the client (it can name hosts and internals).
  opts.log?.warn({ err }, 'ingest write failed: answered 503');
  return new HttpError(503, { error: 'storage unavailable, retry' }, { 'retry-after': '1' });
}

/** 401 without a valid token, 415 for a body that is not JSON. */
export function checkHead(head: IngestHead, tokens: string[]): void {
  if (!authorised(head.authorization, tokens)) {
    throw new HttpError(401, { error: 'missing or invalid bearer token' });
  }
  const type = head.contentType;
  if (type && !/^application\/json\b/i.test(type)) {
    throw new HttpError(415, { error: `content-type must be application/json, got ${type}` });
  }
}

/** A checked request's body, written: the 202 body's bytes. */
export async function ingestBody(text: string, opts: IngestOptions): Promise<Buffer> {
  const samples = parseIngest(text, opts, Date.now());
  // fill answers synchronously when there is nothing to fill: no await then.
  const filled = opts.fill ? opts.fill(samples) : samples;
  const result = await writeIngest(filled instanceof Promise ? await filled : filled, opts);
  return acceptedAnswer(result);
}

/** `POST /v1/samples` (public contract): 202, 400, 401, 413, 415, 429, 503. */
export async function handleIngest(
  req: IncomingMessage,
  res: ServerResponse,
  opts: IngestOptions,
): Promise<void> {
  try {
    const { authorization = '', 'content-type': contentType = '' } = req.headers;
    checkHead({ authorization, contentType }, opts.tokens);
    const pressure = checkPressure(opts);
    if (pressure) await pressure;
    const body = readBody(req, opts.maxBytes);
    sendJsonBytes(res, 202, await ingestBody(typeof body === 'string' ? body : await body, opts));
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    opts.onRejected?.(err.status);
    sendJson(res, err.status, err.body, err.headers);
    if (!req.complete) req.resume(); // drain what the client is still sending
  }
}
