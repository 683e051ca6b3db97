import { DATA_FIELD, StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { decodeItem } from './decode-item.js';
import { SAMPLE_COLUMNS, sampleLine, sampleRow } from './sample-row.js';

/**
 * The fast path must never differ from the full one: whenever it gives a
 * line, decoding in full accepts the entry and writes the same row; where
 * it declines, the full path decides. Numeric columns are compared as the
 * numbers PostgreSQL stores (the fast path keeps the JSON's own digits).
 */

const PART = 3;
const ID = '1764000000123-7';

/** What the historian writes for this JSON on the full path, or undefined when it skips it. */
function fullLine(json: string): string | undefined {
  const d = decodeItem([DATA_FIELD, json], StrategySample);
  if (!d.ok) return undefined;
  const item = {
    part: PART,
    id: ID,
    value: d.value,
    ...(d.raw === undefined ? {} : { raw: d.raw }),
  };
  return sampleLine(item);
}

const NUMERIC = new Set(['at', 'part', 'ts', 'ret', 'benchmark_return', 'equity']);

/** A line's cells by column, numbers as numbers (what PostgreSQL stores), \N as null. */
function cells(line: string): Record<string, unknown> {
  expect(line.endsWith('\n')).toBe(true);
  const parts = line.slice(0, -1).split('\t');
  expect(parts).toHaveLength(SAMPLE_COLUMNS.length);
  return Object.fromEntries(
    SAMPLE_COLUMNS.map((c, i) => {
      const t = parts[i]!;
      if (t === '\\N') return [c, null];
      return [c, NUMERIC.has(c) ? Number(t) : t];
    }),
  );
}

/** The fast path agrees with the full one on `json`; answers whether it took it. */
function agrees(json: string): boolean {
  const fast = sampleRow(json, PART, ID);
  if (fast === undefined) return false;
  const full = fullLine(json);
  expect(full, `full path refused what the fast path took: ${json}`).toBeDefined();
  expect(cells(fast)).toEqual(cells(full!));
  // -0 and 0 are distinct doubles in PostgreSQL: the fast path writes what the full one does.
  for (const c of ['ret', 'benchmark_return', 'equity']) {
    expect(Object.is(cells(fast)[c], -0)).toBe(Object.is(cells(full!)[c], -0));
  }
  return true;
}

const base = {
  strategy: 'strat-1',
  ts: 1_764_000_000_000,
  return: 0.0012,
  benchmarkReturn: -0.0031,
  equity: 1_000_001,
  id: 'strat-1:42',
  receivedAt: 1_764_000_000_010,
};

describe('sampleRow (the fast path for strategy samples)', () => {
  it('writes the same row as the full path for the common shapes, in any key order', () => {
    const shapes: object[] = [
      base,
      { strategy: 'a', ts: 0, return: 0, receivedAt: 0 },
      { receivedAt: 5, return: -1.5e-7, ts: 4, strategy: 'B_c.d-9' },
      { ...base, id: 'ünïcødé ✓ ok' },
      { ...base, return: 1e21, equity: -2.5e-300, benchmarkReturn: 123456789.125 },
      {
        strategy: 'x'.repeat(64),
        ts: 999_999_999_999_999,
        return: 1,
        receivedAt: 1,
        id: 'i'.repeat(128),
      },
    ];
    for (const s of shapes) expect(agrees(JSON.stringify(s)), JSON.stringify(s)).toBe(true);
  });

  it('gives the stream text as the data column and the entry id split for `at`', () => {
    const json = JSON.stringify(base);
    const c = cells(sampleRow(json, PART, ID)!);
    expect(c).toMatchObject({ at: 1_764_000_000_123, part: PART, entry_id: ID, data: json });
    expect(c['sample_id']).toBe('strat-1:42');
  });

  it('writes -0 as the full path does (String(-0) is "0")', () => {
    expect(agrees('{"strategy":"a","ts":1,"return":-0,"equity":-0.0,"receivedAt":2}')).toBe(true);
  });

  it('declines, and leaves to the full path, every shape it cannot judge exactly', () => {
    const odd = [
      '{"strategy":"a", "ts":1,"return":0,"receivedAt":2}', // whitespace
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2}\n',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"id":"x\\ty"}', // an escape
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"id":"x\\u0041"}',
      '{"strategy":"a","ts":1.0,"return":0,"receivedAt":2}', // an integer the full path accepts
      '{"strategy":"a","ts":1e3,"return":0,"receivedAt":2}',
      '{"strategy":"a","ts":1,"return":1e400,"receivedAt":2}', // Infinity: the schema refuses it
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"weights":{"x":1}}',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"benchmarkReturn":null}',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"strategy":"b"}', // duplicate key
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"other":1}',
      '{"strategy":"a b","ts":1,"return":0,"receivedAt":2}', // not a strategy id
      '{"strategy":"a","ts":-1,"return":0,"receivedAt":2}',
      '{"strategy":"a","ts":1,"return":0}', // no receivedAt
      '{"strategy":"a","ts":1,"receivedAt":2}', // no return
      '{"strategy":"a","ts":1,"return":"0","receivedAt":2}',
      '{"strategy":"a","ts":1,"return":01,"receivedAt":2}', // not JSON
      '{"strategy":"a","ts":1,"return":.5,"receivedAt":2}',
      '{"strategy":"a","ts":1,"return":1.,"receivedAt":2}',
      '{"strategy":"a","ts":1,"return":+1,"receivedAt":2}',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2}}',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,}',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"id":""}',
      `{"strategy":"a","ts":1,"return":0,"receivedAt":2,"id":"${'i'.repeat(129)}"}`,
      '{"strategy":"a","ts":1234567890123456,"return":0,"receivedAt":2}', // past 15 digits
      '{"strategy":"a\u0001","ts":1,"return":0,"receivedAt":2}', // a raw control character
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"id":"x\u001fy"}',
      '{"strategy":"a","ts":1,"return":0,"receivedAt":2,"id":"x\u007fy\u0000"}',
      '{}',
      '[]',
      '',
      'null',
    ];
    for (const json of odd) {
      expect(sampleRow(json, PART, ID), json).toBeUndefined();
      agrees(json);
    }
  });

  it('agrees with the full path on thousands of mutated entries', () => {
    // Deterministic pseudo-random single and double edits of valid entries: a
    // character replaced, inserted or removed. Whatever the fast path takes,
    // the full path must take and write alike.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = '{}[]":,.-+eE0123456789 \\\tnulltrueabcxyz_é';
    let taken = 0;
    for (let k = 0; k < 6000; k++) {
      let s = JSON.stringify(k % 2 ? base : { ...base, id: undefined, equity: undefined });
      for (let edits = 1 + rand(2); edits > 0; edits--) {
        const at = rand(s.length + 1);
        const ch = alphabet[rand(alphabet.length)]!;
        const op = rand(3);
        s =
          op === 0
            ? s.slice(0, at) + ch + s.slice(at + 1)
            : op === 1
              ? s.slice(0, at) + ch + s.slice(at)
              : s.slice(0, at) + s.slice(at + 1);
      }
      if (agrees(s)) taken++;
    }
    // Many edits keep the entry valid (a digit for a digit): the fast path must take some.
    expect(taken).toBeGreaterThan(500);
  });
});
