import {
  DATA_FIELD,
  decodeEntry,
  fastScoreUpdate,
  fastStrategySample,
  ScoreUpdate,
  StrategySample,
} from '@quantmon/shared';
import type { z } from 'zod';

/**
 * decodeEntry (shared stream-codec) for the historian, which also wants the
 * entry's JSON text: the hot entries (strategy samples, score updates)
 * whose common valid shape the fast guards accept are their JSON parsed and
 * nothing else, so that text is the row's `data` as is, with no
 * JSON.stringify per row. Anything else takes decodeEntry's path (the zod
 * schema, which may transform) and has no `raw`.
 */

export type DecodedItem<T> = { ok: true; value: T; raw?: string } | { ok: false; reason: string };

const GUARDS = new Map<z.ZodType, (v: unknown) => boolean>([
  [StrategySample, fastStrategySample],
  [ScoreUpdate, fastScoreUpdate],
]);

export function decodeItem<T>(fields: readonly string[], schema: z.ZodType<T>): DecodedItem<T> {
  const guard = GUARDS.get(schema);
  if (guard && fields.length === 2 && fields[0] === DATA_FIELD) {
    const raw = fields[1]!;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined; // decodeEntry names the error
    }
    if (json !== undefined && guard(json)) return { ok: true, value: json as T, raw };
  }
  return decodeEntry(fields, schema);
}
