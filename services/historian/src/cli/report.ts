/**
 * `npm run report -- --strategy ID --from DATE --to DATE [--out FILE]`:
 * the assessment report of one strategy as a self-contained HTML file
 * (stdout without --out). Reads DATABASE_URL, else the embedded PostgreSQL
 * that `npm start` runs (its URL in .quantmon/postgres/url). Bad arguments
 * exit 2 with what is wrong; no samples in the range exits 1.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadHistoryDatabaseUrl, ReportQuery } from '@quantmon/shared';
import { connectHistory } from '../database.js';
import { buildReport } from '../report/index.js';

const USAGE = 'usage: npm run report -- --strategy ID --from DATE --to DATE [--out FILE]';
/** Where `npm start` leaves its embedded PostgreSQL's URL. */
export const EMBEDDED_URL_FILE = resolve(import.meta.dirname, '../../../../.quantmon/postgres/url');

class UsageError extends Error {}

function args(argv: string[]): { strategy: string; from: number; to: number; out?: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        strategy: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  // A bare date (2026-11-01) is midnight UTC; --to of a bare date includes that whole day.
  const time = (s: string | undefined, endOfDay: boolean): string | undefined => {
    if (s === undefined) return undefined;
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return endOfDay ? `${s}T23:59:59.999Z` : `${s}T00:00:00Z`;
    return s;
  };
  const q = ReportQuery.safeParse({
    strategy: values.strategy,
    from: time(values.from, false),
    to: time(values.to, true),
  });
  if (!q.success) {
    const problems = q.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`);
    throw new UsageError(`${problems.join('\n')}\n${USAGE}`);
  }
  if (q.data.from > q.data.to) throw new UsageError('--from is after --to');
  return { ...q.data, ...(values.out ? { out: values.out } : {}) };
}

function databaseUrl(): string {
  const { databaseUrl } = loadHistoryDatabaseUrl(process.env);
  if (databaseUrl) return databaseUrl;
  if (existsSync(EMBEDDED_URL_FILE)) return readFileSync(EMBEDDED_URL_FILE, 'utf8').trim();
  throw new UsageError(
    'no history database: set DATABASE_URL, or run `npm start` (it runs an embedded PostgreSQL)',
  );
}

async function main(): Promise<number> {
  let opts;
  let url;
  try {
    opts = args(process.argv.slice(2));
    url = databaseUrl();
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof Error && err.name === 'ConfigError'))
      throw err;
    process.stderr.write(`report: ${(err as Error).message}\n`);
    return 2;
  }
  const sql = connectHistory(url, { max: 1, name: 'quantmon report' });
  try {
    const built = await buildReport(sql, opts.strategy, opts.from, opts.to, Date.now());
    if (!built) {
      process.stderr.write(
        `report: strategy ${opts.strategy} has no samples between ${new Date(opts.from).toISOString()} and ${new Date(opts.to).toISOString()}\n`,
      );
      return 1;
    }
    if (opts.out) {
      writeFileSync(opts.out, built.html);
      process.stderr.write(`report: ${opts.out} (${built.report.samples} samples)\n`);
    } else {
      process.stdout.write(built.html);
    }
    return 0;
  } finally {
    await sql.end();
  }
}

process.exitCode = await main();
