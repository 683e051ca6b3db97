import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's default metrics include three gauges named like counters
 * (`nodejs_active_handles_total`, `nodejs_active_requests_total`,
 * `nodejs_active_resources_total`), which `promtool check metrics` rejects:
 * a non-counter must not end in `_total`. Each is the sum of a gauge that
 * prom-client exports beside it by type (`quantmon_nodejs_active_handles{type}`
 * and so on), so they are dropped: `sum without (type) (X)` in PromQL gives
 * the old value exactly (docs/operations.md).
 */
export const DROPPED_DEFAULT_METRICS: Readonly<Record<string, string>> = {
  quantmon_nodejs_active_handles_total: 'sum without (type) (quantmon_nodejs_active_handles)',
  quantmon_nodejs_active_requests_total: 'sum without (type) (quantmon_nodejs_active_requests)',
  quantmon_nodejs_active_resources_total: 'sum without (type) (quantmon_nodejs_active_resources)',
};

/** One registry per process, with Node's default metrics labelled by service. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'quantmon_' });
  for (const name of Object.keys(DROPPED_DEFAULT_METRICS)) registry.removeSingleMetric(name);
  return registry;
}
