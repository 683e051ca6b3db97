import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmergencyWorker,
  EMERGENCY_WORKER_DEFAULTS,
} from '../../packages/client/src/emergency-worker.js';
import { EMERGENCY_QUEUE } from '../../packages/shared/src/keys.js';
import { emergencyJobData } from '../helpers/emergency-job.js';
import { spawnModuleSnippet } from '../helpers/module-snippet.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually } from '../helpers/services.js';

/**
 * A job a worker has taken is the worker's until its lock expires: the
 * emergency worker's lock settings bound how long a job whose worker died
 * (or whose take was cut by a Redis stop) waits for another.
 */
describe('emergency worker recovery', () => {
  let redis: TestRedis;
  let conn: Redis;

  beforeAll(async () => {
    redis = await startTestRedis();
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    conn?.disconnect();
    await redis?.dispose();
  });

  it('takes its lock settings from EMERGENCY_WORKER_DEFAULTS, and opts.worker overrides them', async () => {
    const worker = createEmergencyWorker({
      connection: conn,
      handlers: {},
      worker: { autorun: false, drainDelay: 3 },
    });
    try {
      expect(worker.opts.lockDuration).toBe(EMERGENCY_WORKER_DEFAULTS.lockDuration);
      expect(worker.opts.stalledInterval).toBe(EMERGENCY_WORKER_DEFAULTS.stalledInterval);
      expect(worker.opts.drainDelay).toBe(3);
    } finally {
      await worker.close();
    }
  });

  it('hands a job whose worker was SIGKILLed mid-job to another worker within 25 s', async () => {
    const prefix = uniquePrefix('recovery');
    const data = emergencyJobData('recovery');
    const incidentId = data.alert.incidentId;
    // The first worker takes the job and hangs in its handler until killed.
    const first = await spawnModuleSnippet(`
import { Redis } from 'ioredis';
import { createEmergencyWorker } from './packages/client/src/emergency-worker.ts';
const connection = new Redis(${JSON.stringify(redis.url)}, { maxRetriesPerRequest: null });
const worker = createEmergencyWorker({
  connection,
  prefix: ${JSON.stringify(prefix)},
  handlers: {
    'risk-reduction': async (_data, job) => {
      console.log('taken ' + job.id);
      await new Promise(() => undefined);
    },
  },
});
await worker.waitUntilReady();
console.log('ready');
`);
    const queue = new Queue(EMERGENCY_QUEUE, { connection: conn, prefix });
    const handled: Job[] = [];
    let second: ReturnType<typeof createEmergencyWorker> | undefined;
    try {
      await queue.add('risk-reduction', data, { jobId: incidentId });
      await eventually(
        () => (first.rest().includes(`taken ${incidentId}`) ? true : undefined),
        10_000,
        () => `the first worker taking the job; it printed: ${first.rest()}`,
      );
      first.proc.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await queue.getJobState(incidentId)).toBe('active');

      second = createEmergencyWorker({
        connection: conn,
        prefix,
        handlers: { 'risk-reduction': async (_data, job) => void handled.push(job) },
      });
      await eventually(
        () => (handled.length > 0 ? true : undefined),
        25_000,
        `the job handed to the second worker (BullMQ's 30 s lock would take 30-60 s)`,
      );
      console.log(`job handled by another worker ${Date.now() - killedAt} ms after the kill`);
      expect(handled.map((j) => j.id)).toEqual([incidentId]);
      await eventually(
        async () => ((await queue.getJobState(incidentId)) === 'completed' ? true : undefined),
        5000,
        'the job completed',
      );
    } finally {
      first.proc.kill('SIGKILL');
      await second?.close();
      await queue.close();
    }
  });
});
