import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  sampleIssues,
  sendJson,
  StrategySampleInput,
  type ErrorBody,
  type StrategySample,
} from '@quantmon/shared';
import { z } from 'zod';

export interface IngestOptions {
  tokens: string[];
  maxBatch: number;
  maxBytes: number;
  /** Write a validated batch (one transaction); throws when Redis is unavailable. */
  write: (samples: StrategySample[]) => Promise<unknown>;
  onRejected?: (status: number) => void;
  onAccepted?: (count: number) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error);
  }
}

/** Read the body, refusing to buffer more than maxBytes. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, { error: `body over ${maxBytes} bytes` });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, { error: `body over ${maxBytes} bytes` });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function authorised(req: IncomingMessage, tokens: string[]): boolean {
  if (tokens.length === 0) return true;
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1] !== undefined && tokens.includes(m[1].trim());
}

/**
 * Validate a parsed body: a single sample or an array. Every bad field of
 * every item is named; one bad item rejects the whole batch.
 */
export function validateIngest(
  json: unknown,
  maxBatch: number,
  receivedAt: number,
): StrategySample[] {
  if (Array.isArray(json) && json.length > maxBatch) {
    throw new HttpError(413, {
      error: `batch of ${json.length} samples is over the limit of ${maxBatch}`,
    });
  }
  const single = !Array.isArray(json);
  const parsed = single
    ? StrategySampleInput.safeParse(json)
    : z.array(StrategySampleInput).min(1).safeParse(json);
  if (!parsed.success) {
    throw new HttpError(400, { error: 'invalid samples', issues: sampleIssues(parsed.error) });
  }
  const items = (single ? [parsed.data] : parsed.data) as z.infer<typeof StrategySampleInput>[];
  return items.map((s) => ({ ...s, receivedAt }));
}

/** `POST /v1/samples` (public contract): 202, 400, 401, 413, 415, 503. */
export async function handleIngest(
  req: IncomingMessage,
  res: ServerResponse,
  opts: IngestOptions,
): Promise<void> {
  try {
    if (!authorised(req, opts.tokens)) {
      throw new HttpError(401, { error: 'missing or invalid bearer token' });
    }
    const type = req.headers['content-type'] ?? '';
    if (type && !/^application\/json\b/i.test(type)) {
      throw new HttpError(415, { error: `content-type must be application/json, got ${type}` });
    }
    const text = await readBody(req, opts.maxBytes);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, { error: `body is not valid JSON: ${(err as Error).message}` });
    }
    const samples = validateIngest(json, opts.maxBatch, Date.now());
    try {
      await opts.write(samples);
    } catch (err) {
      throw new HttpError(503, { error: `storage unavailable, retry: ${(err as Error).message}` });
    }
    opts.onAccepted?.(samples.length);
    sendJson(res, 202, { accepted: samples.length });
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    opts.onRejected?.(err.status);
    sendJson(res, err.status, err.body, err.status === 503 ? { 'retry-after': '1' } : {});
    if (err.status === 413) req.resume();
  }
}
