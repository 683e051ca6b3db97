import type { FastAnswer, FastRoute } from '@quantmon/shared';
import {
  checkHead,
  checkPressure,
  HttpError,
  ingestBody,
  type IngestHead,
  type IngestOptions,
} from './ingest.js';

/**
 * `POST /v1/samples` on the shared HTTP server's fast path
 * (packages/shared/src/fast-http.ts): plain posts read off the socket and
 * answered without Node's HTTP machinery. The checks and answers are
 * ingest.ts's own, in the same order as handleIngest's.
 */

/**
 * `POST /v1/samples` on the fast path (fast-http.ts), the body already
 * read: the same checks, in the same order, and the same answers as
 * handleIngest.
 */
export async function answerIngest(
  head: IngestHead,
  body: Buffer,
  opts: IngestOptions,
): Promise<FastAnswer> {
  try {
    checkHead(head, opts.tokens);
    const pressure = checkPressure(opts);
    if (pressure) await pressure;
    return { status: 202, body: await ingestBody(body.toString('utf8'), opts) };
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    opts.onRejected?.(err.status);
    return {
      status: err.status,
      body: Buffer.from(JSON.stringify(err.body)),
      headers: err.headers,
    };
  }
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
    answer: async (head, body) => {
      try {
        return await answerIngest(head, body, opts);
      } catch (err) {
        onError?.();
        throw err;
      }
    },
  };
}
