/* global process, console */
/**
 * Publishing strategy samples from a plain Node project (JavaScript, no
 * build step) with @quantmon/client, straight into quantmon's Redis: the
 * same validation, partitioning, idempotency and ordering as
 * `POST /v1/samples`, without the HTTP hop.
 *
 * In your project (Node >= 20.19):
 *   npm install /path/to/quantmon/packages/client      (after `npm run build` there)
 *   # or: npm pack in packages/client, then npm install ./quantmon-client-0.1.0.tgz
 *   REDIS_URL=redis://host:6379 node publish-samples.mjs
 *
 * QUANTMON_PREFIX must match the pipeline's (default `quantmon`).
 */
import { publishSampleBatch, SampleValidationError, StrategySampleInput } from '@quantmon/client';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const strategy = process.env.STRATEGY ?? 'example-momentum';
const now = Date.now();
const samples = [1, 2, 3].map((i) => ({
  strategy,
  ts: now - (3 - i) * 1000,
  return: 0.001 * i,
  // An idempotency key: publishing the same sample twice writes it once.
  id: `${strategy}-${now}-${i}`,
}));

// The schema is exported too: check a sample where you build it, with every bad field named.
const checked = StrategySampleInput.safeParse({ strategy, ts: now, return: 'oops' });
console.log(`a bad sample is refused: ${checked.success ? 'no' : checked.error.issues[0].message}`);

try {
  const result = await publishSampleBatch(redis, samples, {
    prefix: process.env.QUANTMON_PREFIX ?? 'quantmon',
  });
  console.log(`published ${result.accepted} samples of ${strategy}`);
} catch (err) {
  if (err instanceof SampleValidationError) console.error(err.issues);
  throw err;
} finally {
  redis.disconnect();
}
