/**
 * `npm run bench:syscall-cost`: what one kernel entry costs on this host,
 * itself and in the work after it. Every service wakes for a few hundred
 * microseconds of JavaScript between system calls (epoll, read, write), and
 * on a host with kernel page-table isolation and no PCID (check
 * /sys/devices/system/cpu/vulnerabilities/meltdown and the pcid flag in
 * /proc/cpuinfo) every kernel entry flushes the TLB: the memory the process
 * touches next is found again page by page. docs/performance.md, "What a
 * system call and a wake cost", has the figures of the machines measured.
 *
 * A unit of work reads 4,000 places spread over a 64 MiB array and 200,000
 * small objects (a heap the size of a service's). Rounds alternate: the
 * unit alone (the baseline), then the unit after one fstat() each time.
 * Prints the median and p99 over rounds of µs per unit, and fstat alone.
 *
 * Then what a wake costs: the process's own CPU (user + system, from
 * process.cpuUsage) per timer that fires after 1 ms and after 5 ms idle,
 * against one that needs no sleep (setImmediate), in alternating rounds.
 * A service spends its day sleeping in epoll and waking for a read beat,
 * a reply or a request: on a host where coming back costs tens of
 * microseconds, thousands of wakes a second are a large part of a core.
 *
 *   npm run -s bench:syscall-cost                  # 15 rounds of 20,000 units
 *   npm run -s bench:syscall-cost -- --rounds 31
 *   npm run -s bench:syscall-cost -- --json        # the medians as one JSON line
 *
 * bench:pipeline runs it briefly (bench/host-probe.ts) before and after its
 * phases, so that every reference run says how fast the host was.
 */
import { fstatSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { percentile } from './pipeline-latency.js';

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    units: { type: 'string', default: '20000' },
    /** One line of JSON (the medians, µs: `HostSpeed` in bench/host-probe.ts) instead of the text. */
    json: { type: 'boolean', default: false },
  },
});
const rounds = Number(a.rounds);
const units = Number(a.units);

const N = (64 * 1024 * 1024) / 8;
const array = new Float64Array(N);
for (let i = 0; i < N; i++) array[i] = i;
const objects = Array.from({ length: 200_000 }, (_, i) => ({ x: i, y: String(i) }));

/** 4,000 reads at strides that land on a different page nearly every time. */
function unit(): number {
  let s = 0;
  for (let i = 0; i < 2000; i++) {
    s += array[(i * 524_287) % N]!;
    s += objects[(i * 7919) % objects.length]!.x;
  }
  return s;
}

/** µs per unit over one round; `enter` makes one system call before each unit. */
function round(enter: boolean): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < units; k++) {
    if (enter) fstatSync(1);
    sink += unit();
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / units;
  if (sink === -1) console.log(sink); // keeps the work from being optimised away
  return us;
}

function alone(): number {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < units; k++) fstatSync(1);
  return Number(process.hrtime.bigint() - t0) / 1000 / units;
}

/** CPU µs (user + system) per wake over `n` wakes after `idleMs` of sleep (0: setImmediate). */
async function wakes(idleMs: number, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((res) => (idleMs > 0 ? setTimeout(res, idleMs) : setImmediate(res)));
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

round(false); // warm-up: compiled, pages touched
round(true);
const base: number[] = [];
const after: number[] = [];
const call: number[] = [];
for (let r = 0; r < rounds; r++) {
  base.push(round(false));
  after.push(round(true));
  call.push(alone());
}
const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);
const median = (xs: number[]): number => percentile(sorted(xs), 0.5);
const f = (xs: number[]): string =>
  `median ${median(xs).toFixed(2)} µs, p99 ${percentile(sorted(xs), 0.99).toFixed(2)} µs`;
const extra = base.map((b, i) => after[i]! - b - call[i]!);

const wakeRounds = Math.max(3, Math.round(rounds / 3));
const byIdle = new Map<number, number[]>([
  [0, []],
  [1, []],
  [5, []],
]);
for (let r = 0; r < wakeRounds; r++) {
  for (const [idle, xs] of byIdle) xs.push(await wakes(idle, idle === 0 ? 20_000 : 200));
}

if (a.json) {
  console.log(
    JSON.stringify({
      syscallUs: median(call),
      afterSyscallUs: median(extra),
      wakeNoSleepUs: median(byIdle.get(0)!),
      wake1msUs: median(byIdle.get(1)!),
      wake5msUs: median(byIdle.get(5)!),
    }),
  );
  process.exit(0);
}
console.log(`bench:syscall-cost  ${rounds} rounds of ${units.toLocaleString('en-US')} units`);
console.log(`fstat() alone                    ${f(call)}`);
console.log(`unit of work (baseline)          ${f(base)}`);
console.log(`unit after one fstat()           ${f(after)}`);
console.log(
  `cost the call added to the work  ${f(extra)}  (after - baseline - the call, per round)`,
);
console.log(`\nCPU per wake (user + system, ${wakeRounds} rounds, with the heap above):`);
console.log(`no sleep (setImmediate)          ${f(byIdle.get(0)!)}`);
console.log(`after 1 ms idle (setTimeout)     ${f(byIdle.get(1)!)}`);
console.log(`after 5 ms idle (setTimeout)     ${f(byIdle.get(5)!)}`);
