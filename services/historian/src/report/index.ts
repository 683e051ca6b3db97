import type { HistoryDb } from '../database.js';
import { analyse, type Report } from './report-analysis.js';
import { loadReportInput } from './report-data.js';
import { renderReport } from './report-html.js';

export { analyse, type Report } from './report-analysis.js';
export { renderReport, metricsJson } from './report-html.js';

/** The report of one strategy over [from, to]; undefined when it has no sample in the range. */
export async function buildReport(
  db: HistoryDb,
  strategy: string,
  from: number,
  to: number,
  now: number,
): Promise<{ report: Report; html: string } | undefined> {
  const input = await loadReportInput(db, strategy, from, to);
  if (input.samples.length === 0) return undefined;
  const report = analyse(input);
  return { report, html: renderReport(report, now) };
}
