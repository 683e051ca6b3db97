import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { HistoryClient } from './database.js';

/**
 * The raw rows, the bulk of every round, by COPY. Measured (npm run
 * bench:historian, docs/history.md): COPY straight into the partitioned
 * table costs PostgreSQL about half of COPY into a staging table followed by
 * INSERT ... SELECT ... ON CONFLICT DO NOTHING, which writes and reads every
 * row twice. COPY has no ON CONFLICT, so it runs under a savepoint: the
 * unique key (at, part, entry_id) refuses a redelivered entry (a crash
 * between commit and XACK, a claimed entry its first owner also wrote) with
 * unique_violation, and only then is the batch written again through the
 * staging table, which skips the rows already there. A redelivered entry
 * still never makes a second row; the usual round pays for one COPY.
 */

export type Cell = string | number | null;

const SPECIAL = /[\\\t\n\r]/;

/** One value in COPY's text format: \N for null; backslash, tab, newline and CR escaped. */
export function copyText(v: Cell): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  if (!SPECIAL.test(v)) return v; // the usual case: JSON.stringify leaves no raw tab or newline
  return v
    .replaceAll('\\', '\\\\')
    .replaceAll('\t', '\\t')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r');
}

/** The rows as COPY text, one line each. */
export function copyLines(rows: readonly (readonly Cell[])[]): string {
  let text = '';
  for (const row of rows) {
    let line = copyText(row[0] ?? null);
    for (let i = 1; i < row.length; i++) line += '\t' + copyText(row[i] ?? null);
    text += line + '\n';
  }
  return text;
}

const UNIQUE_VIOLATION = '23505';

async function copy(
  tx: HistoryClient,
  target: string,
  cols: string,
  text: string,
): Promise<number> {
  const stream = tx.query(copyFrom(`copy ${target} (${cols}) from stdin`));
  await pipeline(Readable.from([text]), stream);
  return stream.rowCount;
}

/** COPY `rows` into `table` inside the caller's transaction; answers the rows that are new. */
export async function copyRows(
  tx: HistoryClient,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly Cell[])[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const cols = columns.join(', ');
  const text = copyLines(rows);
  await tx.query('savepoint qm_copy');
  try {
    const n = await copy(tx, table, cols, text);
    await tx.query('release savepoint qm_copy');
    return n;
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    await tx.query('rollback to savepoint qm_copy');
  }
  // Some entries were written before: through a staging table, skipping those.
  const stage = `stage_${table}`;
  await tx.query(`create temp table if not exists ${stage} (like ${table}) on commit delete rows`);
  await copy(tx, stage, cols, text);
  const res = await tx.query(
    `insert into ${table} (${cols}) select ${cols} from ${stage} on conflict do nothing`,
  );
  return res.rowCount ?? 0;
}
