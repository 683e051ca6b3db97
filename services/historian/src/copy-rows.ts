import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { HistoryClient } from './database.js';

/**
 * The raw rows, the bulk of every round, by COPY. Measured (npm run
 * bench:historian, docs/history.md): COPY straight into the partitioned
 * table costs PostgreSQL about half of COPY into a staging table followed by
 * INSERT ... SELECT ... ON CONFLICT DO NOTHING, which writes and reads every
 * row twice. COPY has no ON CONFLICT: a redelivered entry (a crash between
 * commit and XACK, a claimed entry its first owner also wrote) makes it fail
 * on the unique key with unique_violation, and the writer then writes the
 * whole batch again in a new transaction through the staging table
 * (copySkippingExisting), which skips the rows already there. A redelivered
 * entry still never makes a second row; the usual round pays for one COPY
 * per table and nothing else.
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

/** One row as a COPY text line, newline included. */
export function copyLine(row: readonly Cell[]): string {
  let line = copyText(row[0] ?? null);
  for (let i = 1; i < row.length; i++) line += '\t' + copyText(row[i] ?? null);
  return line + '\n';
}

/**
 * Lines into one Buffer, each encoded in place. Measured: several times
 * cheaper than concatenating them and letting the stream encode the
 * resulting string (flattening a string of thousands of pieces, then a
 * second pass to encode it), which was a tenth of the historian's CPU.
 */
export function copyPayload(lines: readonly string[]): Buffer {
  let chars = 0;
  for (const l of lines) chars += l.length;
  let buf = Buffer.allocUnsafe(chars + 4096);
  let at = 0;
  for (const l of lines) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: grow before a line could be cut short.
    if (at + l.length * 3 > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, at + l.length * 3));
      buf.copy(bigger, 0, 0, at);
      buf = bigger;
    }
    at += buf.write(l, at);
  }
  return buf.subarray(0, at);
}

export const UNIQUE_VIOLATION = '23505';

async function copy(
  tx: HistoryClient,
  target: string,
  columns: readonly string[],
  payload: Buffer,
): Promise<number> {
  const stream = tx.query(copyFrom(`copy ${target} (${columns.join(', ')}) from stdin`));
  await pipeline(Readable.from([payload]), stream);
  return stream.rowCount;
}

/** COPY into `table` in the caller's transaction; a row already there fails it (unique_violation). */
export async function copyRows(
  tx: HistoryClient,
  table: string,
  columns: readonly string[],
  payload: Buffer,
): Promise<number> {
  if (payload.length === 0) return 0;
  return copy(tx, table, columns, payload);
}

/** The same rows through a staging table, skipping those already written: answers the new ones. */
export async function copySkippingExisting(
  tx: HistoryClient,
  table: string,
  columns: readonly string[],
  payload: Buffer,
): Promise<number> {
  if (payload.length === 0) return 0;
  const stage = `stage_${table}`;
  const cols = columns.join(', ');
  await tx.query(`create temp table if not exists ${stage} (like ${table}) on commit delete rows`);
  await copy(tx, stage, columns, payload);
  const res = await tx.query(
    `insert into ${table} (${cols}) select ${cols} from ${stage} on conflict do nothing`,
  );
  return res.rowCount ?? 0;
}
