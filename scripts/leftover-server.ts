import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * A data server an earlier `npm start` ran and could not stop. npm start
 * stops its own Redis and PostgreSQL last, after the services; killed
 * without that chance (SIGKILL by hand, the out-of-memory killer), it leaves
 * them running: Redis in a process group of its own, PostgreSQL reparented.
 * The next npm start found their ports taken and started a second
 * redis-server on the next free port with the same data folder (two
 * servers appending to one AOF), and a PostgreSQL that refused the data
 * folder's lock. Before starting either, npm start now stops what its pid
 * file names, when that process is alive and works in the same folder.
 */

export interface Leftover {
  pid: number;
  /** Why it is taken for the server of `dir`: its working folder, or (without /proc) its name. */
  how: 'cwd' | 'name';
}

/** The pid on the first line of `pidFile`, if the file exists and holds one. */
export function pidFromFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const first = readFileSync(pidFile, 'utf8').split('\n', 1)[0]!.trim();
  const pid = Number(first);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The state letter and parent pid of `pid` from /proc/<pid>/stat, or
 * undefined when there is no such process (or no /proc). The state follows
 * the command name, which is in parentheses and may hold spaces.
 */
export function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs: exists and, where /proc tells, is not a zombie waiting for its parent. */
export function running(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(pid);
    return stat !== undefined && stat.state !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, another user's (not ours to stop, but not gone either).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The live process `pidFile` names, if it is the server of `dir`: Redis and
 * PostgreSQL both work in their data folder, so on Linux its working folder
 * (/proc/<pid>/cwd) must be `dir`; a pid reused by another process after
 * the server died is not. Without /proc (macOS), its command name must
 * contain `name`.
 */
export function findLeftover(pidFile: string, dir: string, name: string): Leftover | undefined {
  const pid = pidFromFile(pidFile);
  if (pid === undefined || pid === process.pid || !running(pid)) return undefined;
  if (existsSync('/proc/self/cwd')) {
    try {
      return realpathSync(readlinkSync(`/proc/${pid}/cwd`)) === realpathSync(dir)
        ? { pid, how: 'cwd' }
        : undefined;
    } catch {
      return undefined; // gone meanwhile, or not ours to read
    }
  }
  try {
    const comm = execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' });
    return comm.includes(name) ? { pid, how: 'name' } : undefined;
  } catch {
    return undefined;
  }
}

/** The parent pid of `pid` and its command line, where /proc tells. */
function parentOf(pid: number): { pid: number; args: string } | undefined {
  const ppid = procStat(pid)?.ppid;
  if (ppid === undefined) return undefined;
  try {
    return { pid: ppid, args: readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0').join(' ') };
  } catch {
    return undefined;
  }
}

/**
 * Stop the leftover server of `dir` (see findLeftover) with `signal`
 * (Redis: SIGTERM writes its AOF and exits; PostgreSQL: SIGINT, a fast
 * shutdown) and wait until it has exited. Answers the pid stopped, or
 * undefined when there was none; throws when it outlives `timeoutMs`.
 */
export async function stopLeftover(opts: {
  pidFile: string;
  dir: string;
  name: string;
  signal: NodeJS.Signals;
  timeoutMs: number;
  /**
   * Its parent's command line containing this is a live owner (another npm
   * start, starting at the same moment): refused with an error rather than
   * stopped from under it.
   */
  owner?: string;
}): Promise<number | undefined> {
  const found = findLeftover(opts.pidFile, opts.dir, opts.name);
  if (!found) return undefined;
  const parent = opts.owner === undefined ? undefined : parentOf(found.pid);
  if (parent && parent.args.includes(opts.owner!)) {
    throw new Error(
      `${opts.name} (pid ${found.pid}) on ${opts.dir} belongs to a running ${opts.owner} ` +
        `(pid ${parent.pid}): stop that one first`,
    );
  }
  process.kill(found.pid, opts.signal);
  const deadline = Date.now() + opts.timeoutMs;
  while (running(found.pid)) {
    if (Date.now() > deadline) {
      throw new Error(
        `${opts.name} (pid ${found.pid}), left running on ${opts.dir} by an earlier run, ` +
          `did not stop within ${opts.timeoutMs / 1000} s of ${opts.signal}: stop it, then start again`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return found.pid;
}
