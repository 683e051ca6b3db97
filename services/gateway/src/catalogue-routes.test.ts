import { describe, expect, it } from 'vitest';
import { catalogueChanges } from './catalogue-routes.js';
import { requiredRole } from './roles.js';

describe('catalogue admin API', () => {
  it('names the entries added, changed and removed, and top-level sections changed', () => {
    expect(
      catalogueChanges(
        { strategies: { 'fx-*': { interval: '1m' }, old: { window: 60 } } },
        { defaults: { window: 500 }, strategies: { 'fx-*': { interval: '1h' }, new: {} } },
      ),
    ).toEqual(['~fx-*', '+new', '-old', '~(defaults)']);
    expect(catalogueChanges(undefined, { strategies: { a: {} } })).toEqual(['+a']);
    expect(catalogueChanges({ strategies: { a: {} } }, {})).toEqual(['-a']);
    expect(
      catalogueChanges({ strategies: { a: { window: 5 } } }, { strategies: { a: { window: 5 } } }),
    ).toEqual([]);
  });

  it('lets admins alone change the catalogue, and everyone read it', () => {
    expect(requiredRole('PUT', '/api/catalogue')).toBe('admin');
    expect(requiredRole('DELETE', '/api/catalogue')).toBe('admin');
    expect(requiredRole('GET', '/api/catalogue')).toBe('viewer');
    expect(requiredRole('GET', '/api/catalogue/resolve')).toBe('viewer');
  });
});
