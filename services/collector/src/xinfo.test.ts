import { describe, expect, it } from 'vitest';
import { isNoSuchKey, parseGroups, parseStreamInfo, xinfoField } from './xinfo.js';

describe('xinfo replies', () => {
  it('reads fields of a flat reply, and nothing from what is not one', () => {
    expect(xinfoField(['length', 3, 'entries-added', 7], 'entries-added')).toBe(7);
    expect(xinfoField(['length', 3], 'entries-added')).toBeUndefined();
    expect(xinfoField('ERR', 'length')).toBeUndefined();
    // A value equal to a field name is not taken for the name.
    expect(xinfoField(['name', 'lag', 'lag', 5], 'lag')).toBe(5);
  });

  it('parses XINFO STREAM as Redis 7 answers it', () => {
    const reply = [
      'length',
      2,
      'radix-tree-keys',
      1,
      'last-generated-id',
      '5-0',
      'entries-added',
      9,
    ];
    expect(parseStreamInfo(reply)).toEqual({ entriesAdded: 9, length: 2 });
    // Before Redis 7: no entries-added.
    expect(parseStreamInfo(['length', 2])).toEqual({ entriesAdded: undefined, length: 2 });
  });

  it('parses XINFO GROUPS, with a nil lag read as unknown', () => {
    const reply = [
      [
        'name',
        'scorer',
        'consumers',
        1,
        'pending',
        4,
        'last-delivered-id',
        '9-0',
        'entries-read',
        12,
        'lag',
        3,
      ],
      [
        'name',
        'alerter',
        'consumers',
        0,
        'pending',
        2,
        'last-delivered-id',
        '1-0',
        'entries-read',
        5,
        'lag',
        null,
      ],
      'garbage',
    ];
    expect(parseGroups(reply)).toEqual([
      { name: 'scorer', lag: 3, pending: 4, entriesRead: 12, lastDeliveredId: '9-0' },
      { name: 'alerter', lag: undefined, pending: 2, entriesRead: 5, lastDeliveredId: '1-0' },
    ]);
    expect(parseGroups(undefined)).toEqual([]);
  });

  it('tells the missing-stream error apart', () => {
    expect(isNoSuchKey(new Error('ERR no such key'))).toBe(true);
    expect(isNoSuchKey(new Error('WRONGTYPE Operation against a key'))).toBe(false);
    expect(isNoSuchKey('ERR no such key')).toBe(false);
  });
});
