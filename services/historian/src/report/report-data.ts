import { AlertEvent, HISTORY_TABLES as T } from '@quantmon/shared';
import type { HistoryDb } from '../database.js';

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
  db: HistoryDb,
  strategy: string,
  from: number,
  to: number,
): Promise<ReportInput> {
  const { rows: samples } = await db.query<{ ts: number; ret: number; benchmark: number | null }>(
    `select ts, ret, benchmark_return as benchmark from ${T.strategySamples}
     where strategy = $1 and ts between $2 and $3
     order by ts, at, part, split_part(entry_id, '-', 2)::bigint`,
    [strategy, from, to],
  );
  const { rows } = await db.query<{ data: unknown }>(
    `select data from ${T.alertEvents}
     where subject = $1 and ts between $2 and $3
     order by ts, at, part, entry_id`,
    [`strategy/${strategy}`, from, to],
  );
  const alerts = rows.flatMap((r) => {
    const e = AlertEvent.safeParse(r.data);
    return e.success ? [e.data] : [];
  });
  return { strategy, from, to, samples: [...samples], alerts };
}
