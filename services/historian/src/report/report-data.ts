import { AlertEvent, HISTORY_TABLES as T } from '@quantmon/shared';
import type { Sql } from 'postgres';

/** What a report is computed from, read from the history database. */
export interface ReportInput {
  strategy: string;
  from: number;
  to: number;
  /** The strategy's samples in [from, to] by their own time, in stream order. */
  samples: { ts: number; ret: number; benchmark: number | null }[];
  /** Alert events about the strategy in [from, to] (event time), oldest first. */
  alerts: AlertEvent[];
}

export async function loadReportInput(
  sql: Sql,
  strategy: string,
  from: number,
  to: number,
): Promise<ReportInput> {
  const samples = await sql<{ ts: number; ret: number; benchmark: number | null }[]>`
    select ts, ret, benchmark_return as benchmark from ${sql(T.strategySamples)}
    where strategy = ${strategy} and ts between ${from} and ${to}
    order by ts, at, part, split_part(entry_id, '-', 2)::bigint`;
  const rows = await sql<{ data: unknown }[]>`
    select data from ${sql(T.alertEvents)}
    where subject = ${`strategy/${strategy}`} and ts between ${from} and ${to}
    order by ts, at, part, entry_id`;
  const alerts = rows.flatMap((r) => {
    const e = AlertEvent.safeParse(r.data);
    return e.success ? [e.data] : [];
  });
  return { strategy, from, to, samples: [...samples], alerts };
}
