/**
 * What /proc says about a process and the machine (Linux): resident memory,
 * CPU seconds, busy jiffies. For the benchmarks' diagnostics.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a process, KiB. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** utime and stime of a process, in seconds (USER_HZ = 100 on Linux). */
export function cpuTimes(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.sys;
}

/** The whole machine's CPU time by kind, jiffies since boot. */
export interface MachineTimes {
  /** user, nice, system, irq, softirq (guest time is inside user). */
  busy: number;
  /** idle and iowait. */
  idle: number;
  /** Time the hypervisor ran something else while this VM had work for the core. */
  steal: number;
  total: number;
}

/** The first line of /proc/stat, by kind. */
export function machineTimes(): MachineTimes {
  const n = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = n;
  const busy = user + nice + system + irq + softirq;
  return { busy, idle: idle + iowait, steal, total: busy + idle + iowait + steal };
}

/**
 * Between two readings, the machine's time as percentages: busy, idle, and
 * stolen by the host (a VM's vCPU that had work and was not run). Steal is
 * a core the pipeline lost to something outside it.
 */
export function describeMachine(t0: MachineTimes, t1: MachineTimes): string {
  const total = t1.total - t0.total || 1;
  const pct = (k: 'busy' | 'idle' | 'steal'): string =>
    `${(((t1[k] - t0[k]) * 100) / total).toFixed(0)} %`;
  return `busy ${pct('busy')}, idle ${pct('idle')}, taken by the host (steal) ${pct('steal')}`;
}

/** Busy (steal included: time this machine could not use) and total jiffies, every core. */
export function machineJiffies(): { busy: number; total: number } {
  const t = machineTimes();
  return { busy: t.busy + t.steal, total: t.total };
}

/** A thread's scheduler figures. */
export interface SchedStats {
  /** ns runnable but waiting for a core (the run queue). */
  waitNs: number;
  /** Times it was put on a core. */
  runs: number;
  /** Times it was taken off a core while it still had work (nonvoluntary context switches). */
  preempted: number;
  /**
   * Times any of its threads went to sleep and was woken again (voluntary
   * context switches, every thread: the event loop's and V8's or Redis's
   * helpers'). At moderate rates the pipeline's CPU follows these, not the
   * samples: a wake from idle costs tens of µs on a virtual machine
   * (`npm run bench:syscall-cost`).
   */
  wakes: number;
}

/** Voluntary context switches summed over the process's threads (0 once it is gone). */
function wakesOf(pid: number): number {
  let n = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      n += Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return n;
}

/**
 * /proc/PID/task/PID/schedstat and status: the time the main thread was
 * ready to run and waited for a core, how often it ran, and how often the
 * scheduler took the core away mid-work. The waits
 * are the queueing that CPU seconds do not show. Only the main thread,
 * because it is the one a sample waits for: the event loop of a Node
 * service, the command loop of Redis (V8's and Redis's helper threads
 * would add waits no sample sees). The wakes are every thread's, because
 * each costs CPU whichever thread it is. Zeros once the process is gone.
 */
export function schedStats(pid: number): SchedStats {
  try {
    const [, wait, runs] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8')
      .trim()
      .split(' ')
      .map(Number);
    const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
    const preempted = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { waitNs: wait ?? 0, runs: runs ?? 0, preempted, wakes: wakesOf(pid) };
  } catch {
    return { waitNs: 0, runs: 0, preempted: 0, wakes: 0 };
  }
}
