import { idleSweepIntervalMs, type Logger } from '@quantmon/shared';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GatewayState } from './gateway-state.js';

/** Retirement marks are kept this long at least: no update of the old windows is in flight by then. */
const RETIRED_MARK_MS = 10 * 60_000;

export interface GatewayForgetOptions {
  state: GatewayState;
  /** Where the tracked gauges and the forgotten counter go. */
  registry: Registry;
  /** IDLE_FORGET_AFTER in ms; 0: only retirement marks are pruned. */
  afterMs: number;
  signal: AbortSignal;
  log: Logger;
}

/**
 * The gateway's forgetting: each replica drops, from its own in-memory
 * state, strategies and hosts silent for IDLE_FORGET_AFTER (by the same
 * clock the scorer and alerter use: the latest sample's receivedAt, a
 * host sample's ts), so snapshots, /api/summary and /api/strategies stop
 * listing them. Retired strategies go at once (GatewayState.applyAlert).
 * One pass over the maps: under a millisecond per 10,000 entries.
 */
export function runGatewayForget(opts: GatewayForgetOptions): Promise<void> {
  const { state, afterMs, signal, log, registry } = opts;
  const registers = [registry];
  new Gauge({
    name: 'quantmon_gateway_tracked_strategies',
    help: "Strategies in this gateway replica's latest state (snapshots, /api/strategies)",
    registers,
    collect() {
      this.set(state.scores.size);
    },
  });
  new Gauge({
    name: 'quantmon_gateway_tracked_hosts',
    help: "Hosts in this gateway replica's latest state",
    registers,
    collect() {
      this.set(state.system.size);
    },
  });
  const forgotten = new Counter({
    name: 'quantmon_gateway_forgotten_total',
    help: "Strategies and hosts dropped from this gateway's state after IDLE_FORGET_AFTER without data",
    labelNames: ['kind'],
    registers,
  });
  const every = afterMs > 0 ? idleSweepIntervalMs(afterMs) : 60_000;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      state.pruneRetired(now - Math.max(afterMs, RETIRED_MARK_MS));
      if (afterMs <= 0) return;
      const gone = state.forgetIdle(now - afterMs);
      forgotten.inc({ kind: 'strategy' }, gone.strategies);
      forgotten.inc({ kind: 'host' }, gone.hosts);
      if (gone.strategies + gone.hosts > 0) log.info(gone, 'forgot idle strategies and hosts');
    }, every);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        resolve();
      },
      { once: true },
    );
  });
}
