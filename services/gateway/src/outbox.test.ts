import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('Outbox', () => {
  it('conflates metric frames to the latest, moved to the back to keep stream order', () => {
    const o = new Outbox();
    expect(o.push({ key: 'score:a', data: b('a1') })).toBe(false);
    o.push({ key: null, data: b('alert1') });
    o.push({ key: 'score:b', data: b('b1') });
    expect(o.push({ key: 'score:a', data: b('a2') })).toBe(true);
    expect(o.size).toBe(3);
    expect(o.bytes).toBe('alert1b1a2'.length);
    const out: string[] = [];
    for (let it = o.shift(); it; it = o.shift()) out.push(String(it.data));
    expect(out).toEqual(['alert1', 'b1', 'a2']);
    expect(o.bytes).toBe(0);
  });

  it('never replaces frames without a key, and counts what clear drops', () => {
    const o = new Outbox();
    for (let i = 0; i < 5; i++) expect(o.push({ key: null, data: b(`x${i}`) })).toBe(false);
    expect(o.size).toBe(5);
    expect(o.clear()).toBe(5);
    expect(o.size).toBe(0);
  });
});
