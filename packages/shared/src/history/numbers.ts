import { METRIC_NAMES } from '../metric-names.js';
import { fromMetricValue, type ScoreUpdate } from '../schemas/score-update.js';
import type { SystemSample } from '../schemas/system-sample.js';

/**
 * The numeric fields history rolls up (min and max per bucket), flat
 * name -> number; undefined metrics (null, infinities) are left out.
 */

/** The numeric fields of a score update that are rolled up: every metric, the scores, the drift. */
export function scoreNumbers(u: ScoreUpdate): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of METRIC_NAMES) {
    const v = fromMetricValue(u.metrics[name]);
    if (Number.isFinite(v)) out[name] = v;
  }
  out['performance'] = u.scores.performance;
  out['risk'] = u.scores.risk;
  out['stability'] = u.scores.stability;
  if (u.weightDrift !== null) out['weightDrift'] = u.weightDrift;
  return out;
}

export const SYSTEM_FIELDS = [
  'cpu',
  'memory',
  'disk',
  'netInBytesPerSec',
  'netOutBytesPerSec',
  'load1',
  'apiResponseTime',
  'errorRate',
  'cacheHitRate',
  'processingTimeP50',
  'processingTimeP99',
] as const;

/** The numeric fields of a system sample. */
export function systemNumbers(s: SystemSample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of SYSTEM_FIELDS) {
    const v = s[f];
    if (typeof v === 'number' && Number.isFinite(v)) out[f] = v;
  }
  return out;
}
