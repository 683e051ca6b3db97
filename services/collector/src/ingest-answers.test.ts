import { describe, expect, it } from 'vitest';
import { AnswerQueue } from './ingest-answers.js';

describe('AnswerQueue', () => {
  it('releases answers in message order whatever order they settle in', () => {
    const q = new AnswerQueue();
    const [a, b, c] = [q.reserve(), q.reserve(), q.reserve()];
    expect([a, b, c]).toEqual([1, 2, 3]);
    expect(q.pending).toBe(3);
    expect(q.settle(c, 'C')).toEqual([]);
    expect(q.settle(b, 'B')).toEqual([]);
    expect(q.pending).toBe(3);
    expect(q.settle(a, 'A')).toEqual(['A', 'B', 'C']);
    expect(q.pending).toBe(0);
    const d = q.reserve();
    expect(d).toBe(4);
    expect(q.settle(d, 'D')).toEqual(['D']);
  });

  it('refuses an answer for a message it did not take, or a second answer', () => {
    const q = new AnswerQueue();
    const a = q.reserve();
    expect(() => q.settle(2, 'x')).toThrow(/seq 2/);
    q.settle(a, 'A');
    expect(() => q.settle(a, 'again')).toThrow(/seq 1/);
  });
});
