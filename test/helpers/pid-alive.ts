/** Whether a process with this pid exists (signal 0; EPERM: it exists but is not ours). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` runs: not gone, and not a zombie (dead, not yet reaped, which `alive` counts). */
export { running } from '../../scripts/leftover-server.js';
