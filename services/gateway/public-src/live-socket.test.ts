import { MAX_PACING_MS } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { ANSWER_MS, linkCheck, paceFromAddress, QUIET_MS } from './live-socket.js';

describe("the dashboard's ?pace= (paceFromAddress)", () => {
  it('takes a whole number of ms up to the longest pace the gateway accepts', () => {
    expect(paceFromAddress('?pace=500')).toBe(500);
    expect(paceFromAddress('?token=t&pace=0')).toBe(0);
    expect(paceFromAddress(`?pace=${MAX_PACING_MS}`)).toBe(MAX_PACING_MS);
  });

  it('ignores anything else: the page then takes every frame', () => {
    for (const q of ['', '?token=t', '?pace=', '?pace=1.5', '?pace=-1', '?pace=abc']) {
      expect(paceFromAddress(q)).toBeUndefined();
    }
    expect(paceFromAddress(`?pace=${MAX_PACING_MS + 1}`)).toBeUndefined();
  });
});

describe("the dashboard's link check (linkCheck)", () => {
  it('asks a link quiet for QUIET_MS, and gives it up when the ask goes unanswered for ANSWER_MS', () => {
    expect(linkCheck(1000 + QUIET_MS - 1, 1000, undefined)).toBe('ok');
    expect(linkCheck(1000 + QUIET_MS, 1000, undefined)).toBe('ask');
    const asked = 1000 + QUIET_MS;
    expect(linkCheck(asked + ANSWER_MS - 1, 1000, asked)).toBe('ok');
    expect(linkCheck(asked + ANSWER_MS, 1000, asked)).toBe('dead');
  });

  it('takes any frame after the ask as the answer, and a late tick as no evidence', () => {
    const asked = 10_000;
    // Answered (a pong or any frame): quiet again counts from that frame.
    expect(linkCheck(asked + ANSWER_MS * 3, asked + 1, asked)).toBe('ask');
    expect(linkCheck(asked + 2, asked + 1, asked)).toBe('ok');
    // A tick an hour late in a background tab asks first; it does not give up unasked.
    expect(linkCheck(3_600_000, 0, undefined)).toBe('ask');
  });
});
