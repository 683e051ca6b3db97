/**
 * How fast the host is right now, in the two figures that move the
 * pipeline's cost most on the hosts it is measured on: what a process pays
 * to wake after 1 ms idle, and what one system call adds to the work after
 * it (bench:syscall-cost, briefly, in a process of its own so that its
 * 64 MiB heap is not the bench's). On the paravirtualised hosts of
 * docs/performance.md the wake moved between ~20 and ~85 µs within an
 * hour, and every service's CPU per sample moved with it: a reference run
 * that prints it can be compared with another taken at a different moment.
 */
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { ROOT } from './collector-support.js';

/** Medians in µs, as `bench:syscall-cost --json` prints them. */
export const HostSpeed = z.object({
  syscallUs: z.number(),
  afterSyscallUs: z.number(),
  wakeNoSleepUs: z.number(),
  wake1msUs: z.number(),
  wake5msUs: z.number(),
});
export type HostSpeed = z.infer<typeof HostSpeed>;

/** Runs a short bench:syscall-cost (~6 s); what went wrong, as a string, when it fails. */
export function probeHost(): HostSpeed | string {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/syscall-cost.ts', '--rounds', '3', '--units', '2000', '--json'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) return `bench:syscall-cost exited ${r.status}: ${r.stderr.trim()}`;
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  let parsed;
  try {
    parsed = HostSpeed.safeParse(JSON.parse(last));
  } catch {
    parsed = undefined;
  }
  return parsed?.success ? parsed.data : `bench:syscall-cost printed "${last}"`;
}

/** "a wake after 1 ms idle 37.8 µs, a system call 5.4 µs (+6.5 µs in the work after it)". */
export function describeHost(h: HostSpeed | string): string {
  if (typeof h === 'string') return `not measured (${h})`;
  return (
    `a wake after 1 ms idle ${h.wake1msUs.toFixed(1)} µs, a system call ` +
    `${h.syscallUs.toFixed(1)} µs (${h.afterSyscallUs >= 0 ? '+' : ''}` +
    `${h.afterSyscallUs.toFixed(1)} µs in the work after it)`
  );
}
