/**
 * DEMO FEED: made-up strategy returns so a newcomer sees live numbers at
 * once. Everything here is random on purpose and clearly named `demo-*`; it
 * posts to the collector's public ingest exactly as a trading system would.
 * `npm start -- --no-demo` turns it off.
 */
import { watchSupervisor } from '../packages/shared/src/supervisor-watch.js';

const url = `${process.env['DEMO_COLLECTOR_URL'] ?? 'http://127.0.0.1:8081'}/v1/samples`;
const intervalMs = Number(process.env['DEMO_INTERVAL_MS'] ?? 500);

interface DemoStrategy {
  id: string;
  drift: number; // mean daily return
  vol: number; // daily volatility
  beta: number;
  targets: Record<string, number>;
  weights: Record<string, number>;
}

const strategies: DemoStrategy[] = [
  {
    id: 'demo-trend',
    drift: 0.0009,
    vol: 0.009,
    beta: 0.4,
    targets: { SPY: 0.5, TLT: 0.3, GLD: 0.2 },
    weights: { SPY: 0.5, TLT: 0.3, GLD: 0.2 },
  },
  {
    id: 'demo-meanrev',
    drift: 0.0004,
    vol: 0.006,
    beta: -0.1,
    targets: { QQQ: 0.6, IEF: 0.4 },
    weights: { QQQ: 0.6, IEF: 0.4 },
  },
  {
    id: 'demo-levered',
    drift: 0.0006,
    vol: 0.03,
    beta: 1.4,
    targets: { SPY: 1.5, CASH: -0.5 },
    weights: { SPY: 1.5, CASH: -0.5 },
  },
];

function gauss(): number {
  const u = 1 - Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

let tick = 0;
async function postTick(): Promise<void> {
  tick++;
  const market = 0.0003 + 0.01 * gauss();
  const now = Date.now();
  const body = strategies.map((s) => {
    // Occasional fat-tail day so the risk cards and alerts have something to show.
    const shock = Math.random() < 0.01 ? -4 * s.vol : 0;
    const r = s.drift + s.beta * market + s.vol * gauss() + shock;
    for (const a of Object.keys(s.weights)) s.weights[a] = (s.weights[a] ?? 0) + 0.004 * gauss();
    if (tick % 200 === 0) Object.assign(s.weights, s.targets); // rebalance
    return {
      strategy: s.id,
      ts: now,
      return: r,
      benchmarkReturn: market,
      weights: { ...s.weights },
      targetWeights: s.targets,
      id: `${s.id}-${now}-${tick}`,
    };
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) process.stderr.write(`demo feed: ${res.status} ${await res.text()}\n`);
}

const timer = setInterval(
  () =>
    void postTick().catch((err: unknown) => process.stderr.write(`demo feed: ${String(err)}\n`)),
  intervalMs,
);
process.on('SIGTERM', () => {
  clearInterval(timer);
  process.exit(0);
});
// Started by npm start: stop with it, even when it is killed without stopping us.
const supervisorPid = Number(process.env['QUANTMON_SUPERVISOR_PID'] ?? NaN);
if (Number.isInteger(supervisorPid) && supervisorPid > 0) {
  watchSupervisor(supervisorPid, () => process.kill(process.pid, 'SIGTERM'));
}
process.stdout.write(
  `demo feed posting ${strategies.length} made-up strategies to ${url} every ${intervalMs} ms\n`,
);
