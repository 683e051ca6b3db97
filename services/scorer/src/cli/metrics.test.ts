import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '@quantmon/shared/metric-names';
import { computeMetrics, DEFAULT_METRICS_OPTIONS } from '../metrics/index.js';
import { closeTo } from '../metrics/testing/close-to.js';
import { generateSeries, AWKWARD_MIX } from '../metrics/testing/seeded-series.js';
import { InputError, parseMetricsInput } from './metrics-input.js';
import { runMetricsCommand } from './metrics-command.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = (name: string): string => `${root}test/fixtures/metrics/${name}`;

/** Runs the command as a process, the way `npm run -s metrics -- ...` does. */
function spawnCli(args: string[], stdin?: string) {
  const res = spawnSync(
    `${root}node_modules/.bin/tsx`,
    [`${root}services/scorer/src/cli/metrics.ts`, ...args],
    {
      input: stdin,
      encoding: 'utf8',
    },
  );
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** The same command in this process (runMetricsCommand): a process start per case cost ~2 s. */
async function runCli(args: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await runMetricsCommand(args, {
    stdin: () => {
      if (stdin === undefined) throw new Error('no stdin given');
      return stdin;
    },
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

/** Inverse of the command's encoding: null is NaN, "Infinity" strings are infinities. */
const decode = (v: unknown): number =>
  v === null ? NaN : typeof v === 'string' ? Number(v) : (v as number);

describe('parseMetricsInput', () => {
  it('reads JSON with defaults and null gaps', () => {
    const input = parseMetricsInput('{"returns":[0.01,null,-0.02]}');
    expect(input).toEqual({
      ...DEFAULT_METRICS_OPTIONS,
      window: undefined,
      returns: [0.01, null, -0.02],
    });
  });

  it('reads CSV with an optional benchmark column and empty cells as missing', () => {
    const input = parseMetricsInput('date,return,benchmark\n2024-01-01,0.01,\n2024-01-02,,0.002\n');
    expect(input.returns).toEqual([0.01, null]);
    expect(input.benchmark).toEqual([null, 0.002]);
  });

  it.each([
    ['{"returns":[0.01,"x"]}', /returns\[1\]/],
    ['{"returns":[0.01],"benchmark":[0.1,0.2]}', /benchmark: must have one value per return/],
    ['{"returns":[-1.5]}', /returns\[0\]: a return below -1/],
    ['{"returns":[],"window":0}', /window/],
    ['{"returns":[],"periodPerYear":12}', /periodPerYear/],
    ['{"returns":[', /invalid JSON/],
    ['day,return\n', /line 1: expected the header/],
    ['date,return\n2024-01-01,0.01\n2024-01-02,abc\n', /line 3: return "abc" is not a number/],
    ['date,return\n2024-01-01,0.01,7\n', /line 2: expected 2 columns, found 3/],
  ])('names the bad field or line: %s', (text, message) => {
    expect(() => parseMetricsInput(text)).toThrow(InputError);
    expect(() => parseMetricsInput(text)).toThrow(message);
  });
});

describe('metrics command', () => {
  it('prints the batch metrics of a JSON file, NaN as null and infinities as strings (as a process)', () => {
    const { code, stdout } = spawnCli([fixture('empyrical-mixed.json')]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([...METRIC_NAMES]);
    expect(out.sharpeRatio).toBeCloseTo(1.7238613961706866, 12); // empyrical's test_sharpe_ratio
    expect(out.beta).toBeCloseTo(-0.71296296296296313, 12); // empyrical's test_alpha_beta
  });

  it('gives the same numbers for the same series as CSV on stdin', async () => {
    const json = await runCli([fixture('empyrical-mixed.json')]);
    const csv = await runCli(['-'], readFileSync(fixture('empyrical-mixed.csv'), 'utf8'));
    expect(csv.code).toBe(0);
    expect(JSON.parse(csv.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it('encodes infinities as strings', async () => {
    const { stdout } = await runCli(['-'], '{"returns":[0.01,0.02,0.01]}');
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out.sortinoRatio).toBe('Infinity');
    expect(out.calmarRatio).toBeNull();
  });

  it('with a window prints one value per full window, equal to the batch recompute', async () => {
    const W = 25;
    const { returns, benchmark } = generateSeries(21, 200, AWKWARD_MIX);
    const { code, stdout } = await runCli(
      ['-'],
      JSON.stringify({ returns, benchmark, window: W, varCutoff: 0.1 }),
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown[]>;
    const opts = { ...DEFAULT_METRICS_OPTIONS, window: W, varCutoff: 0.1 };
    for (const m of METRIC_NAMES) expect(out[m]).toHaveLength(200 - W + 1);
    for (let i = W; i <= 200; i++) {
      const want = computeMetrics(returns.slice(i - W, i), benchmark.slice(i - W, i), opts);
      for (const m of METRIC_NAMES) {
        const got = decode(out[m]![i - W]);
        expect(closeTo(got, want[m]), `${m} window ending ${i}: ${got} vs ${want[m]}`).toBe(true);
      }
    }
  });

  it('exits 2 naming the CSV line of a bad value', async () => {
    const { code, stderr, stdout } = await runCli([fixture('bad-line.csv')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/line 4: return "zero point one" is not a number/);
  });

  it('reads stdin and exits 2 on bad input as a process too', () => {
    const bad = spawnCli(['-'], '{"returns":[0.01,null,"oops"]}');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^metrics: .*returns\[2\]/);
  });

  it('exits 2 naming the JSON field of a bad value', async () => {
    const { code, stderr } = await runCli(['-'], '{"returns":[0.01,null,"oops"]}');
    expect(code).toBe(2);
    expect(stderr).toMatch(/returns\[2\]/);
  });

  it('exits 2 on a missing file or a bad flag', async () => {
    expect((await runCli(['/nonexistent/returns.csv'])).code).toBe(2);
    const flag = await runCli(['--window', 'ten', fixture('empyrical-mixed.json')]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--window: "ten" is not a number/);
  });
});
