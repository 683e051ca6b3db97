import { describe, expect, it } from 'vitest';
import { LagGate, retryAfterSeconds } from './backpressure.js';

describe('backpressure', () => {
  it('suggests the time to drain back under the limit, within 1-60 s', () => {
    expect(retryAfterSeconds(1500, 1000, 100)).toBe(5);
    expect(retryAfterSeconds(1001, 1000, 1e6)).toBe(1);
    expect(retryAfterSeconds(1e9, 1000, 1)).toBe(60);
    expect(retryAfterSeconds(2000, 1000, 0)).toBe(5);
  });
  it('reuses one lag reading for the cache period, shares concurrent readings and never makes a request wait for a refresh', async () => {
    let now = 0;
    let reads = 0;
    let lag = 50;
    const gate = new LagGate({
      maxLag: 100,
      cacheMs: 1000,
      now: () => now,
      read: async () => {
        reads++;
        return { lag, entriesRead: reads * 100 };
      },
    });
    await Promise.all([gate.check(), gate.check(), gate.check()]);
    expect(reads).toBe(1);
    lag = 500;
    expect(await gate.check()).toBeUndefined(); // still the cached 50
    now = 1000;
    // Stale: answered from the last reading at once while the next is taken.
    expect(await gate.check()).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(await gate.check()).toEqual({ lag: 500, retryAfterSeconds: 4 }); // drains 100/s
    expect(reads).toBe(2);
  });
  it('answers synchronously once it has a reading, fresh or stale: no promise per request', async () => {
    let now = 0;
    const gate = new LagGate({
      maxLag: 100,
      cacheMs: 1000,
      now: () => now,
      read: async () => ({ lag: 500, entriesRead: 0 }),
    });
    const first = gate.check();
    expect(first).toBeInstanceOf(Promise); // nothing read yet: the request waits for it
    expect(await first).toEqual({ lag: 500, retryAfterSeconds: 5 });
    expect(gate.check()).toEqual({ lag: 500, retryAfterSeconds: 5 });
    now = 5000; // stale: the last reading answers while the next is taken
    expect(gate.check()).toEqual({ lag: 500, retryAfterSeconds: 5 });
  });
  it('never blocks when the lag cannot be read or the limit is off', async () => {
    const failing = new LagGate({
      maxLag: 1,
      cacheMs: 0,
      read: () => Promise.reject(new Error('down')),
    });
    expect(await failing.check()).toBeUndefined();
    const off = new LagGate({
      maxLag: 0,
      cacheMs: 0,
      read: async () => ({ lag: 1e9, entriesRead: 0 }),
    });
    expect(await off.check()).toBeUndefined();
  });
});
