import { describe, expect, it } from 'vitest';
import { parseTokenEntry, tokenAllowed, tokenCaller, tokenName } from './auth.js';
import { proxyIdentity, requiredRole } from './roles.js';

describe('gateway token names', () => {
  const policy = { tokens: ['desk-a:s3cret', 'bare', 'x y:colon'], allowedOrigins: [] };

  it('names a token given as name:token and leaves a bare one anonymous', () => {
    expect(parseTokenEntry('desk-a:s3cret')).toMatchObject({ name: 'desk-a', token: 's3cret' });
    expect(parseTokenEntry('bare')).toMatchObject({ name: 'anonymous', token: 'bare' });
    expect(parseTokenEntry('x y:colon')).toMatchObject({ name: 'anonymous', token: 'x y:colon' });
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

describe('gateway roles', () => {
  const policy = {
    tokens: ['ann:viewer:v-tok', 'olga:operator:o-tok', 'adam:admin:a-tok', 'old:plain', 'bare'],
    allowedOrigins: [],
  };

  it('reads name:role:token and gives the older forms the operator role', () => {
    expect(parseTokenEntry('ann:viewer:v-tok')).toEqual({
      name: 'ann',
      role: 'viewer',
      token: 'v-tok',
    });
    expect(parseTokenEntry('old:plain')).toEqual({ name: 'old', role: 'operator', token: 'plain' });
    expect(parseTokenEntry('bare').role).toBe('operator');
    // A role word in the middle is a role; any other middle part stays in the token.
    expect(parseTokenEntry('x:sales:abc')).toEqual({
      name: 'x',
      role: 'operator',
      token: 'sales:abc',
    });
    expect(tokenCaller(policy, 'a-tok')).toEqual({ name: 'adam', role: 'admin', via: 'token' });
    expect(tokenCaller(policy, 'bare')).toEqual({
      name: 'anonymous',
      role: 'operator',
      via: 'token',
    });
    expect(tokenCaller(policy, 'nope')).toBeUndefined();
    expect(tokenCaller({ tokens: [], allowedOrigins: [] }, undefined)?.role).toBe('operator');
  });

  it('asks viewer for reads, operator for acks and silences, admin for rule changes', () => {
    expect(requiredRole('GET', '/api/alerts')).toBe('viewer');
    expect(requiredRole('POST', '/api/alerts/x/ack')).toBe('operator');
    expect(requiredRole('POST', '/api/silences')).toBe('operator');
    expect(requiredRole('DELETE', '/api/silences/s-1')).toBe('operator');
    expect(requiredRole('PUT', '/api/rules')).toBe('admin');
    expect(requiredRole('GET', '/api/rules')).toBe('viewer');
    expect(requiredRole('GET', '/index.html')).toBeUndefined();
  });

  it('maps a trusted proxy user and its groups to the highest role, viewer by default', () => {
    const proxy = {
      userHeader: 'x-forwarded-user',
      groupsHeader: 'x-forwarded-groups',
      roles: ['operator=desk', 'admin=quant-admins'],
    };
    expect(
      proxyIdentity(proxy, {
        'x-forwarded-user': 'kim',
        'x-forwarded-groups': 'desk,quant-admins',
      }),
    ).toEqual({ name: 'kim', role: 'admin' });
    expect(
      proxyIdentity(proxy, { 'x-forwarded-user': 'lee', 'x-forwarded-groups': 'desk' }),
    ).toEqual({ name: 'lee', role: 'operator' });
    expect(proxyIdentity(proxy, { 'x-forwarded-user': 'max' })).toEqual({
      name: 'max',
      role: 'viewer',
    });
    expect(proxyIdentity(proxy, {})).toBeUndefined();
    expect(proxyIdentity(proxy, { 'x-forwarded-user': 'bad user' })).toBeUndefined();
  });
});
