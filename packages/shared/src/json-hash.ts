import type { Redis } from 'ioredis';
import type { z } from 'zod';

/** One JSON value checked against its schema; undefined when unreadable. */
export function parseJson<T>(json: string, schema: z.ZodType<T>): T | undefined {
  try {
    return schema.safeParse(JSON.parse(json)).data;
  } catch {
    return undefined;
  }
}

/**
 * A Redis hash of JSON records (latest scores, incidents, silences), each
 * validated by `schema`. An unreadable field is skipped and reported through
 * `onBad`: one bad record never hides the others.
 */
export async function readJsonHash<T>(
  redis: Redis,
  key: string,
  schema: z.ZodType<T>,
  onBad?: (field: string) => void,
): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (const [field, json] of Object.entries(await redis.hgetall(key))) {
    const v = parseJson(json, schema);
    if (v === undefined) onBad?.(field);
    else out.set(field, v);
  }
  return out;
}
