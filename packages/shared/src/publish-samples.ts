import type { Redis } from 'ioredis';
import { z } from 'zod';
import { keysFor, STREAM_MAXLEN } from './keys.js';
import { StrategySampleInput, type StrategySample } from './schemas/strategy-sample.js';
import { encodeEntry } from './stream-codec.js';

export class SampleValidationError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid samples: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'SampleValidationError';
  }
}

/** Every issue of a batch, with paths like `[3].return`. */
export function sampleIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path:
      i.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '') || '(root)',
    message: i.message,
  }));
}

/** Validate inputs and stamp them for the stream; throws SampleValidationError naming every bad field. */
export function normaliseSamples(inputs: unknown[], receivedAt: number): StrategySample[] {
  const parsed = z.array(StrategySampleInput).safeParse(inputs);
  if (!parsed.success) throw new SampleValidationError(sampleIssues(parsed.error));
  return parsed.data.map((s) => ({ ...s, receivedAt }));
}

/**
 * Write validated samples to the strategy-samples stream in one MULTI, so a
 * batch lands whole or not at all. Returns the stream entry ids.
 */
export async function writeSamples(
  redis: Redis,
  prefix: string,
  samples: StrategySample[],
): Promise<string[]> {
  if (samples.length === 0) return [];
  const stream = keysFor(prefix).strategySamples;
  const tx = redis.multi();
  for (const s of samples)
    tx.xadd(stream, 'MAXLEN', '~', STREAM_MAXLEN.strategySamples, '*', ...encodeEntry(s));
  const results = await tx.exec();
  if (!results) throw new Error('sample transaction aborted');
  return results.map(([err, id]) => {
    if (err) throw err;
    return id as string;
  });
}

/**
 * For trading systems in Node that prefer writing to Redis directly: the
 * same schema and stream as `POST /v1/samples`.
 */
export async function publishSamples(
  redis: Redis,
  samples: unknown[],
  opts: { prefix?: string } = {},
): Promise<string[]> {
  return writeSamples(redis, opts.prefix ?? 'quantmon', normaliseSamples(samples, Date.now()));
}
