import { describe, expect, it } from 'vitest';
import { describeHost, probeHost } from './host-probe.js';

describe('host probe (bench:syscall-cost --json, as bench:pipeline runs it)', () => {
  it('measures the host: each median in µs, named in its line', () => {
    const h = probeHost();
    if (typeof h === 'string') throw new Error(h);
    for (const v of [h.syscallUs, h.wakeNoSleepUs, h.wake1msUs, h.wake5msUs]) {
      expect(v).toBeGreaterThan(0);
    }
    // A difference of two timings: near zero, either side, where a call flushes nothing.
    expect(Number.isFinite(h.afterSyscallUs)).toBe(true);
    expect(describeHost(h)).toBe(
      `a wake after 1 ms idle ${h.wake1msUs.toFixed(1)} µs, a system call ` +
        `${h.syscallUs.toFixed(1)} µs (${h.afterSyscallUs >= 0 ? '+' : ''}${h.afterSyscallUs.toFixed(1)} µs in the work after it)`,
    );
  }, 60_000);

  it('says why when there is no figure', () => {
    expect(describeHost('bench:syscall-cost exited 1: boom')).toBe(
      'not measured (bench:syscall-cost exited 1: boom)',
    );
  });
});
