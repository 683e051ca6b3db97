import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fastScoreUpdate, fastStrategySample, fastStrategySampleInput } from './fast-guards.js';
import { METRIC_NAMES } from './metric-names.js';
import { ScoreUpdate } from './schemas/score-update.js';
import { StrategySample, StrategySampleInput } from './schemas/strategy-sample.js';

type Obj = Record<string, unknown>;

const sample: Obj = {
  strategy: 'alpha-1.x_y',
  ts: 1_767_225_600_000,
  return: -0.0123,
  benchmarkReturn: 0.001,
  equity: 1_000_000,
  weights: { SPY: 0.5, TLT: 0.5 },
  targetWeights: { SPY: 0.6, TLT: 0.4 },
  id: 'a:1',
};
const metrics = Object.fromEntries(
  METRIC_NAMES.map((n, i) => [n, i % 5 === 0 ? null : i % 7 === 0 ? 'Infinity' : i / 10 - 1]),
);
const update: Obj = {
  strategy: 'alpha',
  id: 'a:1',
  ts: 1_767_225_600_000,
  sampleEntryId: '1767225600000-0',
  count: 250,
  metrics,
  scores: { performance: 50.5, risk: 20, stability: 80 },
  status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
  weightDrift: null,
  receivedAt: 1_767_225_600_001,
  computedAt: 1_767_225_600_002,
  span: {
    samples: 12,
    firstEntryId: '1767225599000-0',
    firstCount: 239,
    low: { sharpeRatio: -0.5, 'scores.risk': 10, weightDrift: 0.01 },
    high: { sharpeRatio: 1.5, 'scores.risk': 30, weightDrift: 0.02 },
  },
  windows: { '60': { count: 60, metrics }, '1d': { count: 0, metrics } },
  tags: { desk: 'fx', asset_class: 'fx-g10' },
  params: { periodsPerYear: 98_280, riskFree: 0, requiredReturn: 0.0001, window: 1000 },
  derived: { sharpeGap: 0.25, calmRatio: null },
};

const BAD_VALUES: unknown[] = [
  null,
  undefined,
  NaN,
  Infinity,
  -1,
  1.5,
  '',
  'x'.repeat(200),
  'a:b',
  '2026-01-01T00:00:00Z',
  true,
  [],
  {},
  { k: 'v' },
  { k: NaN },
  { '': 1 },
  'Infinity',
  'GOOD',
  8.64e15 + 1,
];

/** Every path of an object (nested objects too), for mutations. */
function paths(o: Obj, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(o)) {
    out.push([...prefix, k]);
    if (v && typeof v === 'object' && !Array.isArray(v))
      out.push(...paths(v as Obj, [...prefix, k]));
  }
  return out;
}

function mutate(o: Obj, path: string[], value: unknown, remove = false): Obj {
  const copy = structuredClone(o);
  let at: Obj = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Obj;
  const last = path.at(-1)!;
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

/** Valid as is for the guard implies valid and unchanged for the schema. */
function holdsToSchema(guard: (v: unknown) => boolean, schema: z.ZodType, base: Obj): number {
  let fast = 0;
  const check = (candidate: Obj): void => {
    if (!guard(candidate)) return;
    fast++;
    const parsed = schema.safeParse(candidate);
    expect(parsed.success, JSON.stringify(candidate)).toBe(true);
    expect(parsed.data).toEqual(candidate);
  };
  check(base);
  for (const p of paths(base)) {
    check(mutate(base, p, undefined, true));
    for (const v of BAD_VALUES) check(mutate(base, p, v));
  }
  check({ ...base, extra: 1 });
  return fast;
}

describe('fast guards', () => {
  it('accept the common valid shape as the schemas do, and nothing the schemas refuse', () => {
    expect(fastStrategySampleInput(sample)).toBe(true);
    expect(fastStrategySample({ ...sample, receivedAt: 1 })).toBe(true);
    expect(fastScoreUpdate(update)).toBe(true);
    const plain = { ...update };
    delete plain['span'];
    expect(fastScoreUpdate(plain)).toBe(true);
    for (const k of ['windows', 'tags', 'params', 'derived']) {
      const without = { ...update };
      delete without[k];
      expect(fastScoreUpdate(without), k).toBe(true);
    }
    // A rebuilt marker is rare: the schema judges it.
    const rebuilt = { ...update, rebuilt: { at: 1, reason: 'catalogue', samples: 3 } };
    expect(fastScoreUpdate(rebuilt)).toBe(false);
    expect(ScoreUpdate.safeParse(rebuilt).success).toBe(true);
    expect(holdsToSchema(fastStrategySampleInput, StrategySampleInput, sample)).toBeGreaterThan(10);
    expect(
      holdsToSchema(fastStrategySample, StrategySample, { ...sample, receivedAt: 5 }),
    ).toBeGreaterThan(10);
    expect(holdsToSchema(fastScoreUpdate, ScoreUpdate, update)).toBeGreaterThan(10);
  });

  it('leave ISO timestamps and anything unusual to the schema', () => {
    expect(fastStrategySampleInput({ ...sample, ts: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(fastStrategySampleInput({ ...sample, retrun: 1 })).toBe(false);
    expect(fastScoreUpdate({ ...update, span: { ...(update['span'] as Obj), samples: 1 } })).toBe(
      false,
    );
  });
});
