import type { z } from 'zod';
import { DERIVED_NAME } from './expr/derived.js';
import { METRIC_NAMES } from './metric-names.js';
import { ScoreUpdate, SPAN_FIELDS } from './schemas/score-update.js';
import { StrategySample, StrategySampleInput } from './schemas/strategy-sample.js';
import { MAX_SAMPLE_TS } from './schemas/common.js';

/**
 * Hand-written checks that accept exactly the common, valid shape of the
 * hot messages, for a fraction of what the zod schema costs per message
 * (a score update: ~15 µs through zod, well under 1 µs here). They only
 * ever say "valid as is": anything they do not recognise, valid or not
 * (an ISO timestamp, a malformed field), goes through the zod schema,
 * which gives the answer and names what is wrong. So the schema stays the
 * contract; a test holds each guard to it on valid and mutated messages.
 */

type Obj = Record<string, unknown>;

const STRATEGY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const epochMs = (v: unknown): boolean =>
  typeof v === 'number' && Number.isInteger(v) && (v as number) >= 0;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, ok: (v: unknown) => boolean): boolean => v === undefined || ok(v);

/** Only keys of `allowed` (strict objects refuse any other). */
function keysWithin(o: Obj, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

/** Exactly the keys of `names`, each passing `ok`. */
function exactly(v: unknown, names: readonly string[], ok: (x: unknown) => boolean): boolean {
  if (!isObj(v)) return false;
  if (Object.keys(v).length !== names.length) return false;
  for (const k of names) if (!(k in v) || !ok(v[k])) return false;
  return true;
}

function weights(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (k.length < 1 || k.length > 64 || !finite(v[k])) return false;
  return true;
}

const sampleId = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= 128;

const INPUT_KEYS = new Set([
  'strategy',
  'ts',
  'return',
  'benchmarkReturn',
  'equity',
  'weights',
  'targetWeights',
  'id',
]);
const STORED_KEYS = new Set([...INPUT_KEYS, 'receivedAt']);

function sampleFields(o: Obj): boolean {
  return (
    typeof o['strategy'] === 'string' &&
    STRATEGY_ID.test(o['strategy']) &&
    finite(o['return']) &&
    optional(o['benchmarkReturn'], finite) &&
    optional(o['equity'], finite) &&
    optional(o['weights'], weights) &&
    optional(o['targetWeights'], weights) &&
    optional(o['id'], sampleId)
  );
}

/** A posted sample with an epoch-ms `ts` (ISO strings take the schema's path). */
export function fastStrategySampleInput(v: unknown): boolean {
  if (!isObj(v) || !keysWithin(v, INPUT_KEYS)) return false;
  const ts = v['ts'];
  return epochMs(ts) && (ts as number) <= MAX_SAMPLE_TS && sampleFields(v);
}

/** A sample as the collector stores it on the stream. */
export function fastStrategySample(v: unknown): boolean {
  if (!isObj(v) || !keysWithin(v, STORED_KEYS)) return false;
  return epochMs(v['ts']) && epochMs(v['receivedAt']) && sampleFields(v);
}

const metricValue = (v: unknown): boolean =>
  v === null || finite(v) || v === 'Infinity' || v === '-Infinity';
const SCORE_KEYS = ['performance', 'risk', 'stability'] as const;
const STATUS: Record<string, ReadonlySet<unknown>> = {
  performance: new Set(['EXCELLENT', 'GOOD', 'NEEDS IMPROVEMENT']),
  risk: new Set(['LOW', 'MODERATE', 'HIGH']),
  stability: new Set(['STABLE', 'UNSTABLE']),
};
const UPDATE_KEYS = new Set([
  'strategy',
  'id',
  'ts',
  'sampleEntryId',
  'count',
  'metrics',
  'scores',
  'status',
  'weightDrift',
  'receivedAt',
  'computedAt',
  'span',
  'windows',
  'tags',
  'params',
  'rebuilt',
  'derived',
]);
const SPAN_KEYS = new Set(['samples', 'firstEntryId', 'firstCount', 'low', 'high']);
const SPAN_FIELD_SET: ReadonlySet<string> = new Set(SPAN_FIELDS);

function extremes(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (!SPAN_FIELD_SET.has(k) || !finite(v[k])) return false;
  return true;
}

function span(v: unknown): boolean {
  if (!isObj(v) || !keysWithin(v, SPAN_KEYS)) return false;
  const n = v['samples'];
  return (
    typeof n === 'number' &&
    Number.isInteger(n) &&
    n >= 2 &&
    typeof v['firstEntryId'] === 'string' &&
    epochMs(v['firstCount']) &&
    extremes(v['low']) &&
    extremes(v['high'])
  );
}

const WINDOW_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const TAG_KEY = /^[a-z_][a-z0-9_]{0,62}$/;
const WINDOW_KEY_SET: ReadonlySet<string> = new Set(['count', 'metrics']);

function windows(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    const w = v[k];
    if (!WINDOW_NAME.test(k) || !isObj(w) || !keysWithin(w, WINDOW_KEY_SET)) return false;
    if (!epochMs(w['count']) || !exactly(w['metrics'], METRIC_NAMES, metricValue)) return false;
  }
  return true;
}

function tags(v: unknown): boolean {
  if (!isObj(v)) return false;
  let n = 0;
  for (const k in v) {
    const t = v[k];
    if (++n > 32 || !TAG_KEY.test(k) || typeof t !== 'string' || t.length < 1 || t.length > 128)
      return false;
  }
  return true;
}

const PARAM_KEYS = new Set(['periodsPerYear', 'riskFree', 'requiredReturn', 'window', 'windowMs']);
const positive = (x: unknown): boolean => finite(x) && (x as number) > 0;

function params(v: unknown): boolean {
  return (
    isObj(v) &&
    keysWithin(v, PARAM_KEYS) &&
    positive(v['periodsPerYear']) &&
    finite(v['riskFree']) &&
    finite(v['requiredReturn']) &&
    epochMs(v['window']) &&
    (v['window'] as number) > 0 &&
    optional(v['windowMs'], positive)
  );
}

function derived(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    const x = v[k];
    if (!DERIVED_NAME.test(k) || (x !== null && !finite(x))) return false;
  }
  return true;
}

/** A score update as the scorer writes it. */
export function fastScoreUpdate(v: unknown): boolean {
  if (!isObj(v) || !keysWithin(v, UPDATE_KEYS)) return false;
  const s = v['status'];
  return (
    typeof v['strategy'] === 'string' &&
    STRATEGY_ID.test(v['strategy']) &&
    typeof v['id'] === 'string' &&
    epochMs(v['ts']) &&
    typeof v['sampleEntryId'] === 'string' &&
    epochMs(v['count']) &&
    exactly(v['metrics'], METRIC_NAMES, metricValue) &&
    exactly(v['scores'], SCORE_KEYS, finite) &&
    isObj(s) &&
    exactly(s, SCORE_KEYS, () => true) &&
    SCORE_KEYS.every((k) => STATUS[k]!.has(s[k])) &&
    (v['weightDrift'] === null || finite(v['weightDrift'])) &&
    epochMs(v['receivedAt']) &&
    epochMs(v['computedAt']) &&
    optional(v['span'], span) &&
    optional(v['windows'], windows) &&
    optional(v['tags'], tags) &&
    optional(v['params'], params) &&
    optional(v['derived'], derived) &&
    // Rare (once per catalogue change): the schema checks it.
    v['rebuilt'] === undefined
  );
}

/** The guard for a schema, where one exists (decodeEntry and validateIngest use them). */
export const FAST_GUARDS: ReadonlyMap<z.ZodType, (v: unknown) => boolean> = new Map<
  z.ZodType,
  (v: unknown) => boolean
>([
  [StrategySampleInput, fastStrategySampleInput],
  [StrategySample, fastStrategySample],
  [ScoreUpdate, fastScoreUpdate],
]);
