/**
 * BullMQ Worker settings for jobs that must not wait: the emergency jobs
 * (the client's createEmergencyWorker) and the alerter's webhook
 * deliveries. A job a worker has taken stays `active` under that worker's
 * lock until the lock expires and a stall check moves it back to wait.
 * When the worker dies, or Redis goes away just as the worker takes a job
 * (the job is moved, its reply is lost), nobody handles it until then:
 * with BullMQ's 30 s lock and 30 s checks that was 15-60 s, measured
 * 45-57 s after a Redis restart; with these, 10-13 s (`npm run
 * bench:emergency-outage`, docs/alerts.md).
 * - `lockDuration` 10 s (renewed every 5 s while a handler runs). The cost:
 *   a handler that blocks the event loop longer than that loses its lock
 *   and its job runs again (handlers are idempotent by job id anyway).
 * - `stalledInterval` 5 s between stall checks.
 * - `drainDelay` 1 s: the blocking wait for a job that a reconnect resends
 *   returns within a second; at BullMQ's 5 s, half of the jobs added while
 *   Redis restarted waited ~4 s more.
 */
export const URGENT_WORKER_SETTINGS = {
  lockDuration: 10_000,
  stalledInterval: 5_000,
  drainDelay: 1,
} as const;
