/**
 * Loaded with NODE_OPTIONS="--import ./bench/gc-pause-preload.mjs" by
 * `npm run bench:pipeline -- --gc-log FILE`: appends each garbage
 * collection pause of the process of GC_LOG_MIN_MS or more to FILE (the
 * QUANTMON_GC_LOG variable), one line each: epoch ms of its start, the
 * process's name (as the CPU profile preload names it), kind, ms.
 * bench/gc-pauses.ts reads them back per phase.
 */
import { appendFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import process from 'node:process';

const file = process.env.QUANTMON_GC_LOG;
const GC_LOG_MIN_MS = 3;
if (file) {
  const script = process.argv[1] ?? 'node';
  const name = `${basename(dirname(dirname(script)))}-${basename(script, '.ts')}`;
  // Node's own codes (perf_hooks.constants.NODE_PERFORMANCE_GC_*): 4 is a
  // full collection, 8 a step of incremental marking.
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < GC_LOG_MIN_MS) continue;
      const at = Math.round(performance.timeOrigin + e.startTime);
      const kind = kinds[e.detail?.kind] ?? String(e.detail?.kind);
      appendFileSync(file, `${at} ${name} ${kind} ${e.duration.toFixed(2)}\n`);
    }
  }).observe({ entryTypes: ['gc'] });
}
