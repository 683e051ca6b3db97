import { describe, expect, it } from 'vitest';
import { requestUrl } from './http-server.js';

/** Request targets are parsed once per target without a query, and every time with one. */
describe('requestUrl', () => {
  it('parses a target as new URL would, relative to the server', () => {
    for (const t of ['/v1/samples', '/api/history?strategy=a&from=1', '/a%20b', '/', '//x/y']) {
      expect(requestUrl(t).href).toBe(new URL(t, 'http://localhost').href);
    }
    expect(requestUrl(undefined).pathname).toBe('/');
  });

  it('answers the same object for a target without a query, a new one for a query', () => {
    expect(requestUrl('/v1/samples')).toBe(requestUrl('/v1/samples'));
    const q = '/api/history?strategy=a';
    expect(requestUrl(q)).not.toBe(requestUrl(q));
    expect(requestUrl(q).searchParams.get('strategy')).toBe('a');
  });

  it('keeps a bounded number of targets: random paths are parsed, not kept', () => {
    for (let i = 0; i < 1000; i++) requestUrl(`/random/${i}`);
    const late = '/random/after-the-bound';
    expect(requestUrl(late)).not.toBe(requestUrl(late));
    expect(requestUrl(late).pathname).toBe(late);
  });
});
