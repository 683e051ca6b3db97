import { MAX_PACING_MS } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { paceFromAddress } from './live-socket.js';

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
