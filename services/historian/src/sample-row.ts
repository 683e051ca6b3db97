/**
 * The fast path for strategy samples, the bulk of what the historian copies:
 * one pass over the entry's JSON text that yields its COPY line for
 * `strategy_samples` directly, with no JSON.parse, no object per entry and
 * no number turned back into text (the JSON's own digits are the column's
 * text). Profiled, the parsed objects and the row formatting were about a
 * third of the historian's CPU per entry, much of it garbage collection
 * (docs/history.md, "Throughput").
 *
 * It accepts only the common shape, which it can judge exactly: a flat
 * object, no whitespace, string values without escapes, numbers in JSON's
 * grammar, the keys of a stored sample at most once each, and no weights.
 * Within that shape it says yes exactly when JSON.parse plus the fast guard
 * (fastStrategySample) would, and its line equals what the full path
 * writes (sample-row.test.ts holds it to that on valid and odd inputs).
 * Anything else answers undefined and takes the full path, which decides
 * and names what is wrong; so this can only ever be faster, never different.
 */

import type { StrategySample } from '@quantmon/shared';
import { copyLine } from './copy-rows.js';
import { entryAt, itemJson, type StreamItem } from './rows.js';

const MINUS = 0x2d;

/**
 * One `"key":value` pair of a stored sample and what follows it, matched
 * where the last one ended (sticky): a string without escapes or control
 * characters, or a number in JSON's grammar. Measured against JSON.parse
 * plus the guard and the row formatting, in the same process: about half
 * the time per sample (a character loop in JavaScript was slower than both).
 */
// JSON forbids raw control characters in strings; the class must name them to refuse them.
const PAIR =
  // eslint-disable-next-line no-control-regex
  /"(strategy|ts|return|benchmarkReturn|equity|id|receivedAt)":(?:"([^"\\\x00-\x1f]*)"|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?))([,}])/y;

const STRATEGY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Column order of the COPY line: strategy_samples' columns as history-writer.ts names them. */
export const SAMPLE_COLUMNS = [
  'at',
  'part',
  'entry_id',
  'strategy',
  'ts',
  'ret',
  'benchmark_return',
  'equity',
  'sample_id',
  'data',
] as const;

/** The COPY line of a sample decoded in full (any shape the schema accepts). */
export function sampleLine(i: StreamItem<StrategySample>): string {
  const v = i.value;
  return copyLine([
    entryAt(i.id),
    i.part,
    i.id,
    v.strategy,
    v.ts,
    v.return,
    v.benchmarkReturn ?? null,
    v.equity ?? null,
    v.id ?? null,
    itemJson(i),
  ]);
}

/** A float column's text: the JSON's digits, but -0 as the full path writes it (String(-0) is "0"). */
function finiteText(t: string): string | undefined {
  const n = Number(t);
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? '0' : t;
}

/** Epoch ms as digits only, short enough to be exact (the full path takes anything else). */
const epochText = (t: string): boolean =>
  t.length <= 15 && t.charCodeAt(0) !== MINUS && !/[.eE]/.test(t);

/**
 * The COPY line (with its newline) of a strategy sample entry, or undefined
 * when `json` is not the common shape (then decode it in full).
 */
export function sampleRow(json: string, part: number, entryId: string): string | undefined {
  if (json.charCodeAt(0) !== 0x7b) return undefined; // {
  let strategy: string | undefined;
  let ts: string | undefined;
  let ret: string | undefined;
  let bench: string | undefined;
  let equity: string | undefined;
  let id: string | undefined;
  let received: string | undefined;
  PAIR.lastIndex = 1;
  for (;;) {
    const m = PAIR.exec(json);
    if (m === null) return undefined; // whitespace, an escape, null, weights, an unknown key, ...
    const str = m[2];
    const num = m[3];
    switch (m[1]) {
      case 'strategy':
        if (strategy !== undefined || str === undefined) return undefined;
        strategy = str;
        break;
      case 'id':
        if (id !== undefined || str === undefined) return undefined;
        id = str;
        break;
      case 'ts':
        if (ts !== undefined || num === undefined) return undefined;
        ts = num;
        break;
      case 'return':
        if (ret !== undefined || num === undefined) return undefined;
        ret = num;
        break;
      case 'benchmarkReturn':
        if (bench !== undefined || num === undefined) return undefined;
        bench = num;
        break;
      case 'equity':
        if (equity !== undefined || num === undefined) return undefined;
        equity = num;
        break;
      default: // receivedAt
        if (received !== undefined || num === undefined) return undefined;
        received = num;
    }
    if (m[4] === '}') {
      if (PAIR.lastIndex !== json.length) return undefined;
      break;
    }
  }
  if (strategy === undefined || !STRATEGY_ID.test(strategy)) return undefined;
  if (ts === undefined || !epochText(ts)) return undefined;
  if (received === undefined || !epochText(received)) return undefined;
  if (ret === undefined) return undefined;
  const r = finiteText(ret);
  if (r === undefined) return undefined;
  let b = '\\N';
  if (bench !== undefined) {
    const t = finiteText(bench);
    if (t === undefined) return undefined;
    b = t;
  }
  let e = '\\N';
  if (equity !== undefined) {
    const t = finiteText(equity);
    if (t === undefined) return undefined;
    e = t;
  }
  if (id !== undefined && (id.length < 1 || id.length > 128)) return undefined;
  const dash = entryId.indexOf('-');
  if (dash < 1) return undefined;
  // No tab, newline, CR or backslash can be in any of these (checked above): no COPY escaping.
  return (
    `${entryId.slice(0, dash)}\t${part}\t${entryId}\t${strategy}\t${ts}\t${r}\t${b}\t${e}\t` +
    `${id ?? '\\N'}\t${json}\n`
  );
}
