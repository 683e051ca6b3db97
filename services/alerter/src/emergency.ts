import { EmergencyJobData, type AlertEvent, type PartitionKeys } from '@quantmon/shared';
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

export type MarkOutcome = 'marked' | 'gone' | 'taken';

/** Job states in which no worker has taken the job yet. */
const NOT_TAKEN = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Tell a job still waiting in the queue that its incident resolved: its data
 * gains `resolvedAt` and the resolved event, so the worker that takes it
 * decides. A job no longer there (removed) is `gone`; one a worker has
 * taken (active, completed, failed) is `taken` and left alone. A worker
 * may take the job between the state check and the update: it then acts on
 * the data it fetched, as if the update had come a moment later.
 */
export async function markResolved(
  queue: Queue,
  incident: Incident,
  event: AlertEvent,
): Promise<MarkOutcome> {
  const job = await queue.getJob(incident.firing.incidentId);
  if (!job) return 'gone';
  if (!NOT_TAKEN.has(await job.getState())) return 'taken';
  const data = EmergencyJobData.parse({
    ...(job.data as EmergencyJobData),
    resolvedAt: event.endsAt ?? event.ts,
    resolved: event,
  });
  await job.updateData(data);
  return 'marked';
}
