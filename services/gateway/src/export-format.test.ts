import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvCell, csvLine, csvRow } from './export-format.js';

describe('CSV export format', () => {
  it('quotes as RFC 4180 says and leaves absent values empty', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\n')).toBe('"say ""hi""\n"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvLine([1, 'x', null])).toBe('1,x,\r\n');
  });

  it('has one cell per column for every kind', () => {
    const row = csvRow('returns', {
      strategy: 's',
      ts: Date.parse('2026-01-02T00:00:00Z'),
      return: 0.01,
      receivedAt: 0,
    });
    expect(row).toHaveLength(CSV_COLUMNS.returns.length);
    expect(row[0]).toBe('2026-01-02T00:00:00.000Z');
  });
});
