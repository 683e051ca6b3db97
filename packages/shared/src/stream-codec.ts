import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { FAST_GUARDS } from './fast-guards.js';
import { STREAM_MAXLEN } from './keys.js';

/**
 * Every stream entry holds one field, `d`, with the message as JSON. One
 * field keeps writers and readers trivially in step, and the schema (not
 * the field layout) is the contract.
 */
export const DATA_FIELD = 'd';

export function encodeEntry(message: unknown): [string, string] {
  return [DATA_FIELD, JSON.stringify(message)];
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parse and validate one entry's fields (ioredis gives [k1, v1, k2, v2, ...]). */
export function decodeEntry<T>(fields: readonly string[], schema: z.ZodType<T>): Decoded<T> {
  let raw: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === DATA_FIELD) raw = fields[i + 1];
  }
  if (raw === undefined) return { ok: false, reason: `missing field "${DATA_FIELD}"` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  // The common valid shape of a hot message passes a cheap check as is; the
  // schema decides everything else (and names what is wrong).
  if (FAST_GUARDS.get(schema)?.(json)) return { ok: true, value: json as T };
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: formatIssues(parsed.error.issues) };
}

/** "path: message; path: message" for logs and dead letters. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Copy a bad entry to the dead-letter stream with its origin and reason. */
export async function deadLetter(
  redis: Redis,
  deadLetterStream: string,
  source: { stream: string; id: string; fields: readonly string[]; reason: string },
): Promise<void> {
  await redis.xadd(
    deadLetterStream,
    'MAXLEN',
    '~',
    STREAM_MAXLEN.deadLetter,
    '*',
    'stream',
    source.stream,
    'id',
    source.id,
    'reason',
    source.reason,
    'fields',
    JSON.stringify(source.fields),
  );
}

/** Entries as ioredis returns them from XRANGE / XREAD: [id, [k, v, ...]]. */
export type RawEntry = [id: string, fields: string[]];
