import {
  fromMetricValue,
  type MetricName,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';
import { Gauge, type Registry } from 'prom-client';

/**
 * Opt-in per-strategy and per-host gauges on the gateway's /metrics, so
 * Prometheus and Grafana can chart scores and readings. Every strategy and
 * host becomes a label value: `max` caps how many of each are exported (the
 * first by id, so the set is stable between scrapes), and
 * `quantmon_series_omitted` says how many were left out. Off when max is 0.
 */

/** The metrics exported per strategy (label `metric`): the ones alert rules and the dashboard lead with. */
export const EXPORTED_STRATEGY_METRICS: readonly MetricName[] = [
  'sharpeRatio',
  'sortinoRatio',
  'annualVolatility',
  'currentDrawdown',
  'maxDrawdown',
  'valueAtRisk',
  'conditionalValueAtRisk',
  'correlation',
  'trackingError',
  'informationRatio',
  'winRate',
];

/** Host readings: the gauge name and the sample field it reads. */
const HOST_READINGS = [
  ['quantmon_host_cpu_percent', 'cpu', 'CPU busy, percent of all cores'],
  ['quantmon_host_memory_percent', 'memory', 'Memory in use, percent'],
  ['quantmon_host_disk_percent', 'disk', 'Highest use among the watched mounts, percent'],
  ['quantmon_host_load1', 'load1', 'One-minute load average'],
  [
    'quantmon_host_network_receive_bytes_per_second',
    'netInBytesPerSec',
    'Network bytes received per second',
  ],
  [
    'quantmon_host_network_transmit_bytes_per_second',
    'netOutBytesPerSec',
    'Network bytes sent per second',
  ],
  [
    'quantmon_host_api_response_seconds',
    'apiResponseTime',
    'Probe response time (worst or configured percentile)',
  ],
  ['quantmon_host_error_rate_percent', 'errorRate', 'Error rate over the last minute, percent'],
  ['quantmon_host_cache_hit_rate_percent', 'cacheHitRate', 'Redis keyspace hit rate, percent'],
] as const satisfies readonly (readonly [string, keyof SystemSample, string])[];

export interface SeriesSource {
  readonly scores: ReadonlyMap<string, ScoreUpdate>;
  readonly system: ReadonlyMap<string, SystemSample>;
}

/** The first `max` values of `map` by key: a cap that does not reshuffle between scrapes. */
export function firstByKey<V>(map: ReadonlyMap<string, V>, max: number): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, max);
}

export function registerSeriesGauges(registry: Registry, source: SeriesSource, max: number): void {
  if (max <= 0) return;
  const registers = [registry];
  new Gauge({
    name: 'quantmon_series_omitted',
    help: 'Strategies or hosts left out of the per-subject gauges by the GATEWAY_SERIES_MAX cap',
    labelNames: ['kind'],
    registers,
    collect() {
      this.set({ kind: 'strategy' }, Math.max(0, source.scores.size - max));
      this.set({ kind: 'host' }, Math.max(0, source.system.size - max));
    },
  });
  new Gauge({
    name: 'quantmon_strategy_score',
    help: 'Latest score per strategy, 0 to 100 (score: performance, risk, stability)',
    labelNames: ['strategy', 'score'],
    registers,
    collect() {
      this.reset();
      for (const [strategy, u] of firstByKey(source.scores, max)) {
        for (const score of ['performance', 'risk', 'stability'] as const)
          this.set({ strategy, score }, u.scores[score]);
      }
    },
  });
  new Gauge({
    name: 'quantmon_strategy_metric',
    help: 'Latest value of a key metric per strategy (fractions and ratios; undefined values are absent)',
    labelNames: ['strategy', 'metric'],
    registers,
    collect() {
      this.reset();
      for (const [strategy, u] of firstByKey(source.scores, max)) {
        for (const metric of EXPORTED_STRATEGY_METRICS) {
          const v = fromMetricValue(u.metrics[metric]);
          if (!Number.isNaN(v)) this.set({ strategy, metric }, v);
        }
      }
    },
  });
  new Gauge({
    name: 'quantmon_strategy_window_samples',
    help: 'Observations in each strategy window',
    labelNames: ['strategy'],
    registers,
    collect() {
      this.reset();
      for (const [strategy, u] of firstByKey(source.scores, max)) this.set({ strategy }, u.count);
    },
  });
  for (const [name, field, help] of HOST_READINGS) {
    new Gauge({
      name,
      help,
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const [host, s] of firstByKey(source.system, max)) {
          const v = s[field];
          if (v !== undefined) this.set({ host }, v);
        }
      },
    });
  }
}
