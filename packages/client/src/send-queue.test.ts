import { describe, expect, it } from 'vitest';
import { SendQueue } from './send-queue.js';

describe('SendQueue', () => {
  it('hands items back oldest first across its compactions', () => {
    const q = new SendQueue<number>();
    const out: number[] = [];
    // Interleaved pushes and shifts, long enough to compact several times.
    for (let i = 0; i < 10_000; i++) {
      q.push(i);
      if (i % 3 !== 0) out.push(q.shift()!);
    }
    expect(q.length).toBe(10_000 - out.length);
    for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('iterates what waits without removing it, and drains it in order', () => {
    const q = new SendQueue<string>();
    for (let i = 0; i < 3000; i++) q.push(`m${i}`);
    for (let i = 0; i < 2000; i++) q.shift();
    expect([...q]).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i + 2000}`));
    expect(q.length).toBe(1000);
    expect(q.drain()).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i + 2000}`));
    expect(q.length).toBe(0);
    expect([...q]).toEqual([]);
    q.push('again');
    expect(q.shift()).toBe('again');
  });
});
