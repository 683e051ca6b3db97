/** Public surface of the scorer's metrics core (pure: no I/O). */
export { DEFAULT_METRICS_OPTIONS, assertValidOptions, type MetricsOptions } from './options.js';
export { RollingMetrics, blankMetricValues } from './rolling-metrics.js';
export { computeMetrics, isObserved } from './batch.js';
