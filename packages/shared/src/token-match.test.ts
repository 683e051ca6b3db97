import { describe, expect, it } from 'vitest';
import { tokenMatches } from './token-match.js';

describe('tokenMatches', () => {
  it('accepts any configured token and nothing else', () => {
    const tokens = ['alpha-secret', 'b'];
    expect(tokenMatches('alpha-secret', tokens)).toBe(true);
    expect(tokenMatches('b', tokens)).toBe(true);
    expect(tokenMatches('alpha-secreT', tokens)).toBe(false);
    expect(tokenMatches('alpha-secret ', tokens)).toBe(false);
    expect(tokenMatches('', tokens)).toBe(false);
    expect(tokenMatches('alpha-secret', [])).toBe(false);
  });
});
