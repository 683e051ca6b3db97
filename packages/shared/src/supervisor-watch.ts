/**
 * A service started by a supervisor (`npm start`) stops when that
 * supervisor is gone. A parent that is SIGKILLed (by hand, or by the
 * kernel's out-of-memory killer) cannot stop its children, and Linux does
 * not tell them: they were reparented and ran on, orphaned, holding their
 * ports, so the next `npm start` could not start. The orphan's parent pid
 * changes when its parent dies, which is all this watches: once a second,
 * far cheaper than any loop of the service.
 */

/** How often the parent pid is looked at: a second, against a shutdown of up to SHUTDOWN_TIMEOUT_MS. */
export const SUPERVISOR_WATCH_MS = 1000;

/**
 * Calls `onGone` once, the first time the parent pid (`ppid()`) is no
 * longer `supervisorPid`. Answers a function that stops watching. The
 * timer does not keep the process alive.
 */
export function watchSupervisor(
  supervisorPid: number,
  onGone: () => void,
  opts: { ppid?: () => number; intervalMs?: number } = {},
): () => void {
  const ppid = opts.ppid ?? (() => process.ppid);
  const timer = setInterval(() => {
    if (ppid() === supervisorPid) return;
    clearInterval(timer);
    onGone();
  }, opts.intervalMs ?? SUPERVISOR_WATCH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
