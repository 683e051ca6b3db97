import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchSupervisor } from './supervisor-watch.js';

describe('watchSupervisor', () => {
  afterEach(() => vi.useRealTimers());

  it('calls back once, at the first look after the parent pid changed', () => {
    vi.useFakeTimers();
    let ppid = 4242;
    const gone = vi.fn();
    watchSupervisor(4242, gone, { ppid: () => ppid, intervalMs: 1000 });
    vi.advanceTimersByTime(5000);
    expect(gone).not.toHaveBeenCalled();
    ppid = 1; // reparented: the supervisor died
    vi.advanceTimersByTime(999);
    expect(gone).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(gone).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(gone).toHaveBeenCalledTimes(1);
  });

  it('stops looking when told to', () => {
    vi.useFakeTimers();
    const gone = vi.fn();
    const stop = watchSupervisor(4242, gone, { ppid: () => 1 });
    stop();
    vi.advanceTimersByTime(10_000);
    expect(gone).not.toHaveBeenCalled();
  });

  it('watches the real parent pid by default', () => {
    vi.useFakeTimers();
    const gone = vi.fn();
    const stop = watchSupervisor(process.ppid, gone);
    vi.advanceTimersByTime(3000);
    expect(gone).not.toHaveBeenCalled();
    stop();
  });
});
