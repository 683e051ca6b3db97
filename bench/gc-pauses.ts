/**
 * The garbage collection pauses bench/gc-pause-preload.mjs logged, for one
 * phase of bench:pipeline (`--gc-log FILE`): per process, how many of 3 ms
 * or more, their median, longest and total. A Node service's event loop
 * does nothing else during one, so at the half load every sample that
 * arrives then waits it out in that stage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { percentile } from './pipeline-latency.js';

/** The services by the names the preload gives them (folder-script), as bench:pipeline prints them. */
const SHORT: Record<string, string> = {
  'collector-main': 'collector',
  'scorer-main': 'scorer',
  'alerter-main': 'alerter',
  'gateway-main': 'gateway',
  'main-start': 'npm start',
};

/** "scorer 87: 5.0 / 26.7 / 517 ms, ..." for the pauses that started in [fromMs, toMs). */
export function describeGcPauses(file: string, fromMs: number, toMs: number): string {
  if (!existsSync(file)) return 'none logged';
  const by = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [at, name, , ms] = line.split(' ');
    const t = Number(at);
    if (!name || !(t >= fromMs && t < toMs)) continue;
    const short = SHORT[name] ?? name;
    const xs = by.get(short);
    if (xs) xs.push(Number(ms));
    else by.set(short, [Number(ms)]);
  }
  if (by.size === 0) return 'none';
  return [...by]
    .sort((x, y) => x[0].localeCompare(y[0]))
    .map(([name, xs]) => {
      xs.sort((x, y) => x - y);
      const sum = xs.reduce((s, x) => s + x, 0);
      return `${name} ${xs.length}: ${percentile(xs, 0.5).toFixed(1)} / ${xs.at(-1)!.toFixed(1)} / ${sum.toFixed(0)}`;
    })
    .join(', ');
}
