/** The strategy view's three charts: scores, risk, the newest host; live, or a past range. */
import { Chart } from './charts.js';
import { riskSeries, scoreSeries, state } from './dashboard-state.js';
import { byId } from './format.js';

export function strategyCharts(): Chart[] {
  return [
    new Chart(
      byId('chart-scores'),
      {
        title: 'Scores',
        range: [0, 100],
        series: [
          { label: 'Performance', color: '#58a6ff', unit: '' },
          { label: 'Risk', color: '#f85149', unit: '' },
          { label: 'Stability', color: '#2ea043', unit: '' },
        ],
      },
      () => (state.range ? state.rangeScores : scoreSeries(state.selected)),
      () => (state.range ? [state.range.from, state.range.to] : null),
    ),
    new Chart(
      byId('chart-risk'),
      {
        title: 'Volatility and drawdown (%)',
        series: [
          { label: 'Annual volatility', color: '#d29922', unit: ' %' },
          { label: 'Drawdown', color: '#f85149', unit: ' %' },
          { label: 'Max drawdown', color: '#a371f7', unit: ' %' },
        ],
      },
      () => (state.range ? state.rangeRisk : riskSeries(state.selected)),
      () => (state.range ? [state.range.from, state.range.to] : null),
    ),
    new Chart(
      byId('chart-system'),
      {
        title: 'System',
        series: [
          { label: 'CPU', color: '#58a6ff', unit: ' %' },
          { label: 'Memory', color: '#a371f7', unit: ' %' },
          { label: 'Error rate', color: '#f85149', unit: ' %' },
          { label: 'API response', color: '#d29922', unit: ' s', scale: 's' },
        ],
      },
      () => (state.range ? state.rangeSystem : state.systemSeries),
      () => (state.range ? [state.range.from, state.range.to] : null),
    ),
  ];
}
