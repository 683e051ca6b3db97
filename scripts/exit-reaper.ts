/**
 * What a benchmark or test started must not outlive it. One that dies
 * without its cleanup (an uncaught error; its stdout closed by `| head`, the
 * next write failing with EPIPE) left redis-server running with up to
 * gigabytes of AOF in /tmp, and services reconnecting to it forever. Node
 * runs 'exit' listeners on a normal exit and after an uncaught error (not
 * after SIGKILL, nor after another signal unless handled: see below):
 * there the children still running are SIGKILLed and the folders still
 * registered removed. One listener for all, so that a test
 * process starting hundreds of children does not stack listeners.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { constants } from 'node:os';

const children = new Set<ChildProcess>();
const folders = new Set<string>();
let hooked = false;

function reap(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  // A server just SIGKILLed may still be writing into its folder for a few
  // ms (ENOTEMPTY): rmSync retries, waiting synchronously between tries.
  for (const d of folders)
    rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  folders.clear();
}

/**
 * SIGINT, SIGTERM and SIGHUP end a Node process without its 'exit'
 * listeners (the tsx runner turns the first two into an exit, not SIGHUP:
 * a closed terminal), and a bench stopped so left its detached
 * redis-server, with gigabytes of AOF in /tmp, and its npm start running.
 * Once hooked, each exits normally instead, with 128 + its number as a
 * shell reports a death by signal, unless the process handles the signal
 * itself (a bench's own cleanup on Ctrl-C decides when to exit).
 */
const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', reap);
  for (const signal of ENDING_SIGNALS) {
    process.on(signal, () => {
      if (process.listenerCount(signal) === 1) process.exit(128 + constants.signals[signal]);
    });
  }
}

/** Run the 'exit' listeners (this file's and the caller's) when one of those signals ends the process. */
export function exitOnSignals(): void {
  hook();
}

/** SIGKILL `child` if this process exits while it runs. */
export function killOnExit(child: ChildProcess): void {
  hook();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Remove `dir` if this process exits before the returned release is called. */
export function removeOnExit(dir: string): () => void {
  hook();
  folders.add(dir);
  return () => folders.delete(dir);
}
