import { METRIC_NAMES, type ScoreUpdate, type StrategyMetrics } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import {
  overviewEntries,
  parseFilter,
  tagKeys,
  tagsText,
  visibleOrder,
  type Row,
  type View,
} from './overview-model.js';

const NOW = 1_767_225_600_000;
function row(id: string, risk: number, tags?: Record<string, string>, critical = 0): Row {
  const metrics = Object.fromEntries(METRIC_NAMES.map((n) => [n, null])) as StrategyMetrics;
  const u: ScoreUpdate = {
    strategy: id,
    id: `${id}-1`,
    ts: NOW - 1000,
    sampleEntryId: '1-0',
    count: 30,
    metrics,
    scores: { performance: 50, risk, stability: 90 },
    status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
    weightDrift: null,
    receivedAt: NOW,
    computedAt: NOW,
    ...(tags ? { tags } : {}),
  };
  return { id, u, alerts: { critical, warning: 0, info: 0 }, risk: [risk] };
}

const rows = [
  row('ust-10y', 40, { desk: 'rates', manager: 'Kim' }),
  row('bund', 70, { desk: 'rates', manager: 'Lee' }, 1),
  row('eurusd', 30, { desk: 'fx', manager: 'Kim' }),
  row('legacy', 90),
];
const view: View = { text: '', status: 'all', sort: 'risk', descending: true };

describe('overview by tag', () => {
  it('filters by tag conditions (desk=rates, any case) and id fragments, all of them', () => {
    const ids = (text: string): string[] =>
      visibleOrder(rows, { ...view, text }, NOW).map((r) => r.id);
    expect(ids('desk=rates')).toEqual(['bund', 'ust-10y']);
    expect(ids('manager=kim')).toEqual(['ust-10y', 'eurusd']);
    expect(ids('desk=rates manager=kim')).toEqual(['ust-10y']);
    expect(ids('DESK=Rates bu')).toEqual(['bund']);
    expect(ids('desk=credit')).toEqual([]);
    expect(parseFilter(' a  desk=x ')).toEqual({ tags: [['desk', 'x']], ids: ['a'] });
  });

  it('groups by a tag: each value a header with its counts, then its rows in the chosen sort, untagged last', () => {
    const entries = overviewEntries(rows, { ...view, group: 'desk' }, NOW);
    expect(
      entries.map((e) =>
        e.head
          ? `# ${e.head.value || '-'} ${e.head.rows} ${e.head.alerting} ${e.head.worst ?? ''}`
          : e.row.id,
      ),
    ).toEqual([
      '# fx 1 0 ',
      'eurusd',
      '# rates 2 1 critical',
      'bund',
      'ust-10y',
      '# - 1 0 ',
      'legacy',
    ]);
    // No grouping: the plain sorted rows.
    expect(overviewEntries(rows, view, NOW).map((e) => e.row?.id)).toEqual([
      'legacy',
      'bund',
      'ust-10y',
      'eurusd',
    ]);
  });

  it('lists the tag keys to group by and writes a row tags', () => {
    expect(tagKeys(rows)).toEqual(['desk', 'manager']);
    expect(tagsText(rows[0]!.u)).toBe('desk=rates · manager=Kim');
    expect(tagsText(rows[3]!.u)).toBe('');
  });
});
