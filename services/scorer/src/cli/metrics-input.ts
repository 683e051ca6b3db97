import { z } from 'zod';

/**
 * Input of the batch command (`npm run -s metrics -- FILE`): a JSON document
 * or a CSV file with a header, told apart by content. Every problem is
 * reported as an InputError naming the JSON field path or the CSV line.
 */

/** A return or benchmark value: null is a missing observation. */
const Observation = z
  .number()
  .min(-1, 'a return below -1 (a loss of more than 100 %) is not possible')
  .nullable();

export const MetricsInput = z
  .strictObject({
    returns: z.array(Observation),
    benchmark: z.array(Observation).optional(),
    periodsPerYear: z.number().positive().default(252),
    riskFree: z.number().default(0),
    requiredReturn: z.number().default(0),
    varCutoff: z.number().min(0).max(1).default(0.05),
    window: z.number().int().min(1).optional(),
  })
  .refine((v) => v.benchmark === undefined || v.benchmark.length === v.returns.length, {
    path: ['benchmark'],
    message: 'must have one value per return',
  });
export type MetricsInput = z.infer<typeof MetricsInput>;

/** Options that may also come from command-line flags (flags win). */
export type MetricsOverrides = Partial<
  Pick<MetricsInput, 'periodsPerYear' | 'riskFree' | 'requiredReturn' | 'varCutoff' | 'window'>
>;

export class InputError extends Error {
  override readonly name = 'InputError';
}

/** `returns[3]`, `benchmark`, `window` ... as a reader would write the path. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function validate(doc: unknown, overrides: MetricsOverrides, origin: string): MetricsInput {
  const merged = typeof doc === 'object' && doc !== null ? { ...doc, ...overrides } : doc;
  const result = MetricsInput.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? formatPath(issue.path) : 'document';
    return `${origin}: ${where}: ${issue.message}`;
  });
  throw new InputError(lines.join('\n'));
}

const MISSING = new Set(['', 'null', 'nan', 'na', 'n/a']);

function parseCsvNumber(raw: string, column: string, line: number): number | null {
  const text = raw.trim();
  if (MISSING.has(text.toLowerCase())) return null;
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new InputError(`line ${line}: ${column} "${text}" is not a number`);
  }
  if (value < -1) {
    throw new InputError(`line ${line}: ${column} ${text} is below -1 (a loss of more than 100 %)`);
  }
  return value;
}

function parseCsv(text: string, overrides: MetricsOverrides): MetricsInput {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const withBenchmark = header.length === 3 && header[2] === 'benchmark';
  if (header[0] !== 'date' || header[1] !== 'return' || !(header.length === 2 || withBenchmark)) {
    throw new InputError('line 1: expected the header "date,return" or "date,return,benchmark"');
  }
  const returns: (number | null)[] = [];
  const benchmark: (number | null)[] = [];
  lines.slice(1).forEach((raw, i) => {
    const line = i + 2;
    if (raw.trim() === '') return; // blank lines, e.g. the final newline
    const cells = raw.split(',');
    if (cells.length !== header.length) {
      throw new InputError(
        `line ${line}: expected ${header.length} columns, found ${cells.length}`,
      );
    }
    if ((cells[0] ?? '').trim() === '') throw new InputError(`line ${line}: date is empty`);
    returns.push(parseCsvNumber(cells[1] ?? '', 'return', line));
    if (withBenchmark) benchmark.push(parseCsvNumber(cells[2] ?? '', 'benchmark', line));
  });
  const doc = withBenchmark ? { returns, benchmark } : { returns };
  return validate(doc, overrides, 'options');
}

/** Parses a JSON or CSV document; JSON is recognised by its leading `{`. */
export function parseMetricsInput(text: string, overrides: MetricsOverrides = {}): MetricsInput {
  if (text.trimStart().startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new InputError(`invalid JSON: ${(err as Error).message}`);
    }
    return validate(doc, overrides, 'field');
  }
  return parseCsv(text, overrides);
}
