/**
 * `npm run bench:alerter-observe` (or `npx tsx bench/alerter-observe.ts
 * [--strategies 250,1000,4000]`): what one score update costs the alerter's
 * pure core (AlerterCore.observe, no Redis) as a partition's open incidents
 * grow, as in a crash across a desk. For each count N: N strategies each open
 * a drawdown warning, then each in turn crosses var_exceeded (critical),
 * which fires and, under the default inhibition rules, mutes its warning.
 * Every such update re-judges the partition's inhibition marks. Printed:
 * the p50 / p99 of those N updates, with the default inhibition rules and,
 * as the baseline in the same run, with inhibition off (`inhibit: []`).
 * docs/performance.md, "Inhibition at desk scale".
 */
import { parseArgs } from 'node:util';
import { AlerterCore } from '../services/alerter/src/alerter-core.js';
import { compileRules } from '../services/alerter/src/rules.js';
import { scoreInput } from '../services/alerter/src/testing-inputs.js';

const { values: args } = parseArgs({
  options: { strategies: { type: 'string', default: '250,1000,4000' } },
});
const counts = args.strategies.split(',').map(Number);
const T0 = 1_700_000_000_000;

function crash(n: number, rulesFile: object): { p50: number; p99: number; open: number } {
  const core = new AlerterCore(compileRules(rulesFile, 0), 20, new Map(), new Map(), T0);
  let t = T0;
  for (let i = 0; i < n; i++) {
    t++;
    core.observe(scoreInput(`s${i}`, { currentDrawdown: -0.12, valueAtRisk: -0.05 }), `${t}-0`, t);
  }
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    t++;
    const input = scoreInput(`s${i}`, { currentDrawdown: -0.12, valueAtRisk: -0.2 });
    const start = performance.now();
    core.observe(input, `${t}-0`, t);
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(n - 1, Math.ceil(q * n) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), open: core.incidents.size };
}

console.log('AlerterCore.observe of the update that fires var_exceeded, one partition, ms');
console.log('strategies  open incidents  inhibition p50 / p99  off (baseline) p50 / p99');
for (const n of counts) {
  // Warm the JIT on a small run first, so the first row is not the compiler's.
  crash(200, {});
  const on = crash(n, {});
  const off = crash(n, { inhibit: [] });
  const f = (x: number): string => x.toFixed(3);
  console.log(
    `${String(n).padStart(10)}  ${String(on.open).padStart(14)}  ${`${f(on.p50)} / ${f(on.p99)}`.padStart(20)}  ${`${f(off.p50)} / ${f(off.p99)}`.padStart(25)}`,
  );
}
