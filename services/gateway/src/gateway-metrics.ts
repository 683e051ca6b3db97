import { allPartitions, type Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Fanout } from './fanout.js';
import type { GatewayState } from './gateway-state.js';
import { idMs } from './stream-pos.js';
import { RESUME_STREAMS, streamKey } from './topics.js';

/**
 * The gateway's /metrics: connections, frames out (total and per second),
 * dropped and conflated frames, outbox depth, slow and rate-limited
 * closes, refused connections, and how far behind each stream it is (per
 * partition, and the worst partition per stream).
 */
export function registerGatewayMetrics(opts: {
  registry: Registry;
  fanout: Fanout;
  state: GatewayState;
  redis: Redis;
  keys: Keys;
}) {
  const { registry, fanout, state, redis, keys } = opts;
  const registers = [registry];
  const counterOf = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  counterOf(
    'quantmon_gateway_frames_out_total',
    'Frames written to clients',
    () => fanout.stats.framesOut,
  );
  counterOf(
    'quantmon_gateway_frames_conflated_total',
    'Metric frames replaced by a newer one in a slow client outbox',
    () => fanout.stats.conflated,
  );
  counterOf(
    'quantmon_gateway_frames_dropped_total',
    'Frames discarded with a connection closed before they were written',
    () => fanout.stats.dropped,
  );
  counterOf(
    'quantmon_gateway_slow_closed_total',
    'Clients closed for falling behind (close 4008)',
    () => fanout.stats.slowClosed,
  );
  counterOf(
    'quantmon_gateway_rate_limited_closed_total',
    'Clients closed for flooding messages (close 4029)',
    () => fanout.stats.rateLimitedClosed,
  );
  const rejected = new Counter({
    name: 'quantmon_gateway_rejected_total',
    help: 'WebSocket upgrades refused, by reason',
    labelNames: ['reason'],
    registers,
  });
  const badEntries = new Counter({
    name: 'quantmon_gateway_malformed_entries_total',
    help: 'Stream entries skipped as malformed',
    registers,
  });
  const delay = new Histogram({
    name: 'quantmon_gateway_entry_delay_seconds',
    help: 'From an entry written to Redis to its broadcast by this gateway',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  new Gauge({
    name: 'quantmon_gateway_connections',
    help: 'Open WebSocket connections',
    registers,
    collect() {
      this.set(fanout.connections);
    },
  });
  // Frames per second over the last interval between two 1 s ticks.
  let lastFrames = 0;
  let lastAt = Date.now();
  let perSecond = 0;
  const rateTimer = setInterval(() => {
    const now = Date.now();
    perSecond = ((fanout.stats.framesOut - lastFrames) * 1000) / Math.max(1, now - lastAt);
    lastFrames = fanout.stats.framesOut;
    lastAt = now;
  }, 1000);
  rateTimer.unref();
  new Gauge({
    name: 'quantmon_gateway_frames_out_per_second',
    help: 'Frames written to clients per second (last second)',
    registers,
    collect() {
      this.set(perSecond);
    },
  });
  new Gauge({
    name: 'quantmon_gateway_outbox_frames',
    help: 'Frames waiting in client outboxes: total, and the deepest outbox',
    labelNames: ['agg'],
    registers,
    collect() {
      const d = fanout.outboxDepth();
      this.set({ agg: 'sum' }, d.frames);
      this.set({ agg: 'max' }, d.max);
    },
  });
  new Gauge({
    name: 'quantmon_gateway_backlog_bytes',
    help: 'Unsent bytes over all connections (outboxes and socket buffers)',
    registers,
    collect() {
      this.set(fanout.outboxDepth().backlogBytes);
    },
  });
  // Lag per stream and partition, read once per scrape by whichever gauge is collected first.
  let lags: Promise<{ stream: string; part: number; lag: number }[]> | undefined;
  const readLags = (): Promise<{ stream: string; part: number; lag: number }[]> => {
    lags ??= Promise.all(
      RESUME_STREAMS.flatMap((stream) =>
        allPartitions(state.partitions).map(async (part) => {
          // One key per command (a Cluster routes each to its slot's node).
          const top = await redis
            .xrevrange(streamKey(keys, stream, part), '+', '-', 'COUNT', 1)
            .then((r) => (r as [string, string[]][])[0]?.[0])
            .catch(() => undefined);
          const read = state.pos[stream][part] ?? '0-0';
          const lag = top === undefined ? 0 : Math.max(0, idMs(top) - idMs(read)) / 1000;
          return { stream, part, lag };
        }),
      ),
    ).finally(() => setImmediate(() => (lags = undefined)));
    return lags;
  };
  new Gauge({
    name: 'quantmon_gateway_stream_lag_seconds',
    help: 'Newest entry of each stream minus the newest this gateway has read (Redis clock): the worst partition',
    labelNames: ['stream'],
    registers,
    async collect() {
      const worst = new Map<string, number>();
      for (const l of await readLags())
        worst.set(l.stream, Math.max(worst.get(l.stream) ?? 0, l.lag));
      for (const [stream, lag] of worst) this.set({ stream }, lag);
    },
  });
  new Gauge({
    name: 'quantmon_gateway_partition_lag_seconds',
    help: 'Newest entry of each partition stream minus the newest this gateway has read (Redis clock)',
    labelNames: ['stream', 'partition'],
    registers,
    async collect() {
      for (const l of await readLags())
        this.set({ stream: l.stream, partition: String(l.part) }, l.lag);
    },
  });

  return {
    rejected: (reason: string) => rejected.inc({ reason }),
    badEntry: () => badEntries.inc(),
    broadcast: (pos: string) => delay.observe(Math.max(0, Date.now() - idMs(pos)) / 1000),
    close: () => clearInterval(rateTimer),
  };
}
