import type { FastAnswer, FastReply, FastRoute, StrategySample } from '@quantmon/shared';
import {
  acceptedAnswer,
  checkHead,
  checkPressure,
  HttpError,
  parseIngest,
  writeFailed,
  type IngestHead,
  type IngestOptions,
} from './ingest.js';

/**
 * `POST /v1/samples` on the shared HTTP server's fast path
 * (packages/shared/src/fast-http.ts): plain posts read off the socket and
 * answered without Node's HTTP machinery. The checks and answers are
 * ingest.ts's own, in the same order as handleIngest's.
 *
 * Written with callbacks, not async functions: a post went through five
 * levels of them (this route, the checks, the body, the write, the
 * coalescer), each a promise, closures and a saved frame. With callbacks
 * a single-sample post allocates about a quarter less and costs the
 * collector 10-20 % less CPU (docs/performance.md, "Single-sample posts
 * with callbacks").
 */

/** `onError` hears of a handler exception (the fast path answers it 500). */
interface Reply {
  opts: IngestOptions;
  reply: FastReply;
  onError: (() => void) | undefined;
}

/**
 * `POST /v1/samples` on the fast path, the body already read: the same
 * checks, in the same order, and the same answers as handleIngest.
 * Synchronous up to the write while the backpressure gate and the
 * benchmark fill answer at once (all but a few requests); else it goes on
 * when they do. `reply` is called once.
 */
export function answerIngest(
  head: IngestHead,
  body: Buffer,
  opts: IngestOptions,
  reply: FastReply,
  onError?: () => void,
): void {
  const r: Reply = { opts, reply, onError };
  try {
    checkHead(head, opts.tokens);
    const pressure = checkPressure(opts);
    if (pressure) {
      pressure.then(
        () => afterPressure(body, r),
        (err: unknown) => fail(err, r),
      );
      return;
    }
    afterPressure(body, r);
  } catch (err) {
    fail(err, r);
  }
}

function afterPressure(body: Buffer, r: Reply): void {
  try {
    const { opts } = r;
    const samples = parseIngest(body.toString('utf8'), opts, Date.now());
    const filled = opts.fill ? opts.fill(samples) : samples;
    if (filled instanceof Promise) {
      filled.then(
        (f) => write(f, r),
        (err: unknown) => fail(err, r),
      );
      return;
    }
    write(filled, r);
  } catch (err) {
    fail(err, r);
  }
}

function write(samples: StrategySample[], r: Reply): void {
  const { opts } = r;
  opts.submit(samples, (err, result) => {
    if (!result) return fail(writeFailed(err, opts), r);
    try {
      opts.onAccepted?.(result);
      r.reply({ status: 202, body: acceptedAnswer(result) });
    } catch (e) {
      fail(e, r);
    }
  });
}

/** A refusal answered as handleIngest answers it; anything else is the fast path's 500. */
function fail(err: unknown, r: Reply): void {
  if (!(err instanceof HttpError)) {
    r.onError?.();
    r.reply(undefined, err);
    return;
  }
  r.opts.onRejected?.(err.status);
  const answer: FastAnswer = {
    status: err.status,
    body: Buffer.from(JSON.stringify(err.body)),
    headers: err.headers,
  };
  r.reply(answer);
}

/**
 * `POST /v1/samples` as a fast route: plain posts skip Node's HTTP
 * machinery, ~25 µs of CPU a request under pipelined single-sample posts
 * (fast-http.ts). A body over `maxBytes` is left to Node's server, where
 * handleIngest answers 413 and drains it. `onError` hears of a handler
 * exception (the fast path answers it 500).
 */
export function ingestFastRoute(opts: IngestOptions, onError?: () => void): FastRoute {
  return {
    takes: (head) => head.method === 'POST' && head.target === '/v1/samples',
    maxBytes: opts.maxBytes,
    answerTo: (head, body, reply) => answerIngest(head, body, opts, reply, onError),
  };
}
