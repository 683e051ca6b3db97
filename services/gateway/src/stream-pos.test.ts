import { describe, expect, it } from 'vitest';
import { compareIds, idMs, maxId } from './stream-pos.js';

describe('stream ids', () => {
  it('compare as numbers, not strings', () => {
    expect(compareIds('999-0', '1000-0')).toBe(-1);
    expect(compareIds('1000-10', '1000-9')).toBe(1);
    expect(compareIds('1000-1', '1000-1')).toBe(0);
    expect(maxId('999-5', '1000-0')).toBe('1000-0');
    expect(idMs('1700000000123-4')).toBe(1700000000123);
  });
});
