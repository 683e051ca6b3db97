import {
  METRIC_NAMES,
  SYSTEM_FIELDS,
  type AlertEvent,
  type ExportKind,
  type ScoreUpdate,
  type StrategySample,
  type SystemSample,
} from '@quantmon/shared';

/**
 * Pure: the CSV columns of each export kind and one row's cells. Times are
 * ISO-8601 (UTC); absent values are empty cells; RFC 4180 quoting.
 */

type Cell = string | number | boolean | null | undefined;

const iso = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString();

export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (cells: readonly Cell[]): string => `${cells.map(csvCell).join(',')}\r\n`;

export const CSV_COLUMNS: Record<ExportKind, readonly string[]> = {
  strategy: [
    'ts',
    'strategy',
    'sampleId',
    'count',
    ...METRIC_NAMES,
    'performance',
    'risk',
    'stability',
    'performanceStatus',
    'riskStatus',
    'stabilityStatus',
    'weightDrift',
  ],
  returns: ['ts', 'strategy', 'return', 'benchmarkReturn', 'equity', 'id'],
  host: ['ts', 'host', ...SYSTEM_FIELDS],
  alerts: [
    'ts',
    'incidentId',
    'rule',
    'level',
    'subject',
    'state',
    'value',
    'threshold',
    'metric',
    'message',
    'startsAt',
    'endsAt',
    'acknowledgedBy',
    'acknowledgedAt',
  ],
};

export function csvRow(kind: ExportKind, data: unknown): Cell[] {
  switch (kind) {
    case 'strategy': {
      const u = data as ScoreUpdate;
      return [
        iso(u.ts),
        u.strategy,
        u.id,
        u.count,
        ...METRIC_NAMES.map((m) => u.metrics[m]),
        u.scores.performance,
        u.scores.risk,
        u.scores.stability,
        u.status.performance,
        u.status.risk,
        u.status.stability,
        u.weightDrift,
      ];
    }
    case 'returns': {
      const s = data as StrategySample;
      return [iso(s.ts), s.strategy, s.return, s.benchmarkReturn, s.equity, s.id];
    }
    case 'host': {
      const s = data as SystemSample;
      return [iso(s.ts), s.host, ...SYSTEM_FIELDS.map((f) => s[f])];
    }
    case 'alerts': {
      const e = data as AlertEvent;
      return [
        iso(e.ts),
        e.incidentId,
        e.rule,
        e.level,
        e.subject,
        e.state,
        e.value,
        e.threshold,
        e.metric,
        e.message,
        iso(e.startsAt),
        iso(e.endsAt),
        e.acknowledged?.by,
        iso(e.acknowledged?.at),
      ];
    }
  }
}
