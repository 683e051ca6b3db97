import { describe, expect, it } from 'vitest';
import { parseTokenEntry, tokenAllowed, tokenName } from './auth.js';

describe('gateway token names', () => {
  const policy = { tokens: ['desk-a:s3cret', 'bare', 'x y:colon'], allowedOrigins: [] };

  it('names a token given as name:token and leaves a bare one anonymous', () => {
    expect(parseTokenEntry('desk-a:s3cret')).toEqual({ name: 'desk-a', token: 's3cret' });
    expect(parseTokenEntry('bare')).toEqual({ name: 'anonymous', token: 'bare' });
    expect(parseTokenEntry('x y:colon')).toEqual({ name: 'anonymous', token: 'x y:colon' });
    expect(tokenName(policy, 's3cret')).toBe('desk-a');
    expect(tokenName(policy, 'bare')).toBe('anonymous');
  });

  it('still accepts a whole entry as the token, and refuses unknown or missing tokens', () => {
    expect(tokenName(policy, 'desk-a:s3cret')).toBe('desk-a');
    expect(tokenName(policy, 'x y:colon')).toBe('anonymous');
    expect(tokenAllowed(policy, 'desk-a')).toBe(false);
    expect(tokenAllowed(policy, undefined)).toBe(false);
    expect(tokenName({ tokens: [], allowedOrigins: [] }, undefined)).toBe('anonymous');
  });
});
