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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const DOT = 0x2e;

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

/** End of the JSON number starting at i, or -1 when JSON's grammar does not allow it. */
function numberEnd(s: string, i: number): number {
  let c = s.charCodeAt(i);
  if (c === MINUS) c = s.charCodeAt(++i);
  if (c === ZERO) {
    c = s.charCodeAt(++i);
  } else if (c > ZERO && c <= NINE) {
    do c = s.charCodeAt(++i);
    while (c >= ZERO && c <= NINE);
  } else {
    return -1;
  }
  if (c === DOT) {
    c = s.charCodeAt(++i);
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = s.charCodeAt(++i);
    while (c >= ZERO && c <= NINE);
  }
  if (c === 0x65 || c === 0x45) {
    c = s.charCodeAt(++i);
    if (c === 0x2b || c === MINUS) c = s.charCodeAt(++i);
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = s.charCodeAt(++i);
    while (c >= ZERO && c <= NINE);
  }
  return i;
}

/** End (the closing quote) of a string without escapes or control characters, or -1. */
function stringEnd(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20 || Number.isNaN(c)) return -1;
    i++;
  }
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
  if (json.charCodeAt(0) !== OPEN) return undefined;
  let strategy: string | undefined;
  let ts: string | undefined;
  let ret: string | undefined;
  let bench: string | undefined;
  let equity: string | undefined;
  let id: string | undefined;
  let received: string | undefined;
  let i = 1;
  if (json.charCodeAt(i) === CLOSE) return undefined; // {}: no strategy
  for (;;) {
    if (json.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = stringEnd(json, i + 1);
    if (keyEnd < 0) return undefined;
    const key = json.slice(i + 1, keyEnd);
    i = keyEnd + 1;
    if (json.charCodeAt(i) !== COLON) return undefined;
    i++;
    let text: string;
    const first = json.charCodeAt(i);
    if (first === QUOTE) {
      const end = stringEnd(json, i + 1);
      if (end < 0) return undefined;
      text = json.slice(i + 1, end);
      i = end + 1;
      if (key === 'strategy' && strategy === undefined) strategy = text;
      else if (key === 'id' && id === undefined) id = text;
      else return undefined; // a string where a number belongs, a repeated or unknown key
    } else {
      const end = numberEnd(json, i);
      if (end < 0) return undefined; // null, true, an object (weights), an array, bad grammar
      text = json.slice(i, end);
      i = end;
      if (key === 'ts' && ts === undefined) ts = text;
      else if (key === 'return' && ret === undefined) ret = text;
      else if (key === 'benchmarkReturn' && bench === undefined) bench = text;
      else if (key === 'equity' && equity === undefined) equity = text;
      else if (key === 'receivedAt' && received === undefined) received = text;
      else return undefined;
    }
    const c = json.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    if (c === CLOSE && i === json.length - 1) break;
    return undefined;
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
