import { EmergencyJobData, type PartitionKeys } from '@quantmon/shared';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Incident } from './incident.js';

/** Completed jobs are kept a day so BullMQ's own id dedupe also covers that window. */
export const EMERGENCY_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: false,
} as const;

/**
 * Put an incident's job on the queue exactly once. The marker key (no TTL
 * issue: kept 30 days) remembers the enqueue after BullMQ has removed the
 * job, so replays and restarts never add it again. The add comes before the
 * marker: a crash between them re-runs the add, which BullMQ dedupes by job
 * id while the job is retained.
 */
export async function enqueueOnce(
  queue: Queue,
  redis: Redis,
  keys: Pick<PartitionKeys, 'emergencyMarker'>,
  incident: Incident,
): Promise<'enqueued' | 'already'> {
  const id = incident.firing.incidentId;
  if (!incident.action) throw new Error(`incident ${id} has no action`);
  const marker = keys.emergencyMarker(id);
  if (await redis.exists(marker)) return 'already';
  const data = EmergencyJobData.parse({
    alert: incident.firing,
    action: incident.action,
    enqueuedAt: Date.now(),
  });
  await queue.add(incident.action, data, { ...EMERGENCY_JOB_OPTIONS, jobId: id });
  await redis.set(marker, String(Date.now()), 'EX', 30 * 24 * 3600);
  return 'enqueued';
}
