/** The batch metrics command (metrics.ts runs it): flags, input, output. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { METRIC_NAMES, type MetricValues } from '@quantmon/shared/metric-names';
import { CatalogueError, loadCatalogueFile, resolveStrategy, StrategyId } from '@quantmon/shared';
import { computeMetrics, DEFAULT_METRICS_OPTIONS, RollingMetrics } from '../metrics/index.js';
import type { MetricsOptions } from '../metrics/index.js';
import {
  InputError,
  parseMetricsInput,
  type MetricsInput,
  type MetricsOverrides,
} from './metrics-input.js';

const USAGE = `usage: npm run -s metrics -- [--window N] [--periods-per-year N] [--risk-free R]
                              [--required-return R] [--var-cutoff Q]
                              [--strategies CATALOGUE --strategy ID] FILE|-`;

const FLAGS = {
  window: 'window',
  'periods-per-year': 'periodsPerYear',
  'risk-free': 'riskFree',
  'required-return': 'requiredReturn',
  'var-cutoff': 'varCutoff',
} as const;

interface Flags {
  file: string;
  overrides: MetricsOverrides;
  /** --strategies and --strategy: take the strategy's parameters from a catalogue (flags still win). */
  catalogue?: { path: string; strategy: string };
}

function parseFlags(argv: string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: Object.fromEntries(
        [...Object.keys(FLAGS), 'strategies', 'strategy'].map((f) => [
          f,
          { type: 'string' as const },
        ]),
      ),
    });
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError(USAGE);
  const overrides: Record<string, number> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) {
      throw new InputError(`--${flag}: "${raw}" is not a number`);
    }
    overrides[key] = value;
  }
  const path = values['strategies'];
  const strategy = values['strategy'];
  if ((typeof path === 'string') !== (typeof strategy === 'string')) {
    throw new InputError(`--strategies and --strategy go together\n${USAGE}`);
  }
  if (typeof strategy === 'string' && !StrategyId.safeParse(strategy).success) {
    throw new InputError(`--strategy: "${strategy}" is not a strategy id`);
  }
  return {
    file: positionals[0] as string,
    overrides,
    ...(typeof path === 'string' && typeof strategy === 'string'
      ? { catalogue: { path, strategy } }
      : {}),
  };
}

/**
 * The strategy's annualisation and rates from the catalogue, as the scorer
 * resolves them (the window stays the whole series unless --window).
 */
async function catalogueOverrides(c: {
  path: string;
  strategy: string;
}): Promise<MetricsOverrides> {
  try {
    const { params } = resolveStrategy(await loadCatalogueFile(c.path), c.strategy);
    return {
      periodsPerYear: params.periodsPerYear,
      riskFree: params.riskFree,
      requiredReturn: params.requiredReturn,
    };
  } catch (err) {
    const why = err instanceof CatalogueError ? err.message : (err as Error).message;
    throw new InputError(`--strategies ${c.path}: ${why}`);
  }
}

function compute(input: MetricsInput): Record<string, number | number[]> {
  const opts: MetricsOptions = {
    ...DEFAULT_METRICS_OPTIONS,
    periodsPerYear: input.periodsPerYear,
    riskFree: input.riskFree,
    requiredReturn: input.requiredReturn,
    varCutoff: input.varCutoff,
    window: input.window ?? Math.max(1, input.returns.length),
  };
  if (input.window === undefined) return computeMetrics(input.returns, input.benchmark, opts);
  const engine = new RollingMetrics(opts);
  const rows: MetricValues[] = [];
  input.returns.forEach((r, i) => {
    engine.push(r, input.benchmark?.[i] ?? null, i);
    if (i + 1 >= opts.window) rows.push(engine.values());
  });
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, rows.map((row) => row[m])]));
}

/** JSON has no NaN or Infinity: NaN becomes null, infinities become strings. */
function encode(_key: string, value: unknown): unknown {
  if (typeof value !== 'number' || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? null : value > 0 ? 'Infinity' : '-Infinity';
}

/** Where the command reads stdin and writes its output (the process's own, or a test's). */
export interface MetricsIo {
  stdin: () => string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * The whole command: parse `argv`, read the file (or stdin for `-`),
 * compute, print. Returns the exit code: 0, or 2 for bad input (named on
 * `err`). metrics.ts runs it on the process; tests run it in-process.
 */
export async function runMetricsCommand(argv: string[], io: MetricsIo): Promise<number> {
  try {
    const flags = parseFlags(argv);
    const { file } = flags;
    const overrides = flags.catalogue
      ? { ...(await catalogueOverrides(flags.catalogue)), ...flags.overrides }
      : flags.overrides;
    let text: string;
    try {
      text = file === '-' ? io.stdin() : readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const output = compute(parseMetricsInput(text, overrides));
    io.out(`${JSON.stringify(output, encode)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    io.err(`metrics: ${err.message}\n`);
    return 2;
  }
}
