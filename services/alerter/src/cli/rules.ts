/**
 * `npm run -s rules -- check FILE`: validates a rules file with the loader
 * the alerter uses (rules-file.ts) before it is deployed. Valid: prints the
 * rules in force, each with where it came from (default, file, or a default
 * the file overrides), and exits 0. Invalid: prints every problem and exits
 * 2. Bad usage exits 64.
 */
import { describeRules } from '../rules-in-force.js';
import { loadRules } from '../rules-file.js';
import type { RuleInForce } from '@quantmon/shared';

const USAGE = 'usage: npm run -s rules -- check FILE';
/** ALERTER_NO_DATA_MS's default: only the no_data rule depends on it. */
const NO_DATA_MS = 300_000;

const ORIGIN: Record<RuleInForce['origin'], string> = {
  default: 'default',
  file: 'file',
  override: 'file override',
};

/** Milliseconds as the rules file writes them: 0, 500ms, 30s, 5m, 2h, 1d. */
function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function check(file: string): Promise<number> {
  let rules: RuleInForce[];
  try {
    rules = describeRules(await loadRules(file, NO_DATA_MS));
  } catch (err) {
    const lines = (err as Error).message.split('\n');
    console.error(`${file}: invalid (${lines.length} problem${lines.length === 1 ? '' : 's'})`);
    for (const line of lines) console.error(`  ${line}`);
    return 2;
  }
  console.log(`${file}: valid, ${rules.length} rules in force`);
  const rows = [['name', 'level', 'metric', 'threshold', 'for', 'keepFiringFor', 'from']];
  for (const r of rules) {
    rows.push([
      r.name,
      r.level,
      r.metric,
      `${r.comparison} ${r.threshold}`,
      formatDuration(r.forMs),
      formatDuration(r.keepFiringForMs),
      ORIGIN[r.origin] + (r.overrides.length ? ` (per subject: ${r.overrides.join(', ')})` : ''),
    ]);
  }
  console.log(table(rows));
  return 0;
}

const [command, file, ...rest] = process.argv.slice(2);
if (command !== 'check' || !file || rest.length > 0) {
  console.error(USAGE);
  process.exitCode = 64;
} else {
  process.exitCode = await check(file);
}
