import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'quantmon-rules-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs the command the way `npm run -s rules -- ...` does. */
function runCli(args: string[]) {
  const res = spawnSync(
    `${root}node_modules/.bin/tsx`,
    [`${root}services/alerter/src/cli/rules.ts`, ...args],
    { encoding: 'utf8' },
  );
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('rules check', () => {
  it('prints the rules in force with where each came from and exits 0 on a valid file', () => {
    const path = file(
      'good.yaml',
      [
        'rules:',
        '  drawdown_exceeded:',
        '    for: 10s',
        '    keepFiringFor: 2m',
        '  weight_drift_high:',
        '    metric: weightDrift',
        "    comparison: '>'",
        '    threshold: 5',
        '    level: info',
        '    subject: strategy',
        '    recommendation: Check the order router.',
        '',
      ].join('\n'),
    );
    const res = runCli(['check', path]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('valid');
    const line = (name: string) => res.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    expect(line('drawdown_exceeded')).toMatch(/10s\s+2m\s+file override/);
    expect(line('weight_drift_high')).toMatch(/info\s+weightDrift\s+> 5\s+0\s+0\s+file$/);
    expect(line('var_exceeded')).toMatch(/critical .* default$/);
  });

  it('prints every problem, with the accepted formats, and exits 2 on an invalid file', () => {
    const path = file(
      'bad.yaml',
      ['rules:', '  drawdown_exceeded:', '    for: 10 minutes', '    threshold: high', ''].join(
        '\n',
      ),
    );
    const res = runCli(['check', path]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('2 problems');
    expect(res.stderr).toMatch(/rule "drawdown_exceeded", field "for": a duration: .*30s, 5m/);
    expect(res.stderr).toMatch(/rule "drawdown_exceeded", field "threshold"/);
  });

  it('exits 2 naming the file when it cannot be read or parsed', () => {
    expect(runCli(['check', join(dir, 'missing.yaml')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read/),
    });
    const res = runCli(['check', file('broken.json', '{"rules": ')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/not valid JSON/);
  });

  it('prints its usage and exits 64 without a command and a file', () => {
    expect(runCli([])).toMatchObject({ code: 64, stderr: expect.stringMatching(/usage/) });
  });
});
