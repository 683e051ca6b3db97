import { EMERGENCY_JOB } from '@quantmon/shared';
import type { InhibitRule, RuleSpec } from './rule-spec.js';

/**
 * Annualised ratios (Sharpe, Sortino, information ratio, Calmar) are judged
 * from one year of observations at the scorer's default PERIODS_PER_YEAR
 * (252). The standard error of an annualised Sharpe estimated from n
 * observations is about sqrt(252 / n) (Lo, 2002): 3.5 at 20, 2.0 at 60, 1.0
 * at 252, against a 0.5 threshold; and one new observation moves the
 * estimate by about sqrt(252) / n: 0.26 at 60, more than the 0.1 hysteresis
 * band (so it flaps), 0.06 at 252. GIPS likewise forbids annualising a
 * return over less than a year. The price is a year of samples before a new
 * strategy's Sharpe can alert (drawdown, VaR and volatility watch it
 * meanwhile): set `minObservations` lower in the rules file to accept the
 * noise. A rule on one of these ratios that sets no `minObservations` gets
 * this floor; other statistics wait for ALERTER_MIN_OBSERVATIONS (20).
 */
export const RATIO_MIN_OBSERVATIONS = 252;

/**
 * Host and probe rules open no incident during a host's first minute of
 * reports: its first samples see the start-up itself (every service
 * compiling and connecting at once, probes calling a gateway not yet
 * listening), and the error rate's window is 60 s, so after a minute it
 * holds no start-up failure. Counted from the host's first report the
 * alerter knows of (kept in Redis, so an alerter restart alone starts no
 * grace), or its first after a silence at least this long (a collector
 * restart).
 */
const MINUTE = 60_000;
const HOST_STARTUP_GRACE = MINUTE;

/**
 * keepFiringFor (Prometheus's keep_firing_for): a firing incident resolves
 * only once its value has stayed past the clear threshold this long, on the
 * alerter's clock (a strategy that reports daily still resolves minutes
 * after its clear sample, not a day later). A crossing back meanwhile keeps
 * the same incident: no new firing, notification or job. It never delays
 * firing. Issue 11 saw drawdown and Sharpe warnings on the demo feed (a
 * sample every 500 ms) re-fire every 10-15 s: their statistics are
 * estimates over a window that jitter with every sample, and a warning that
 * clears and re-fires within minutes is one episode to the person reading
 * it. Resolving a warning a few minutes late costs nothing (it pages no one
 * and queues nothing); each spurious re-firing costs a notification.
 */
const WARNING_KEEP_FIRING = 3 * MINUTE;

/**
 * The ten default rules of docs/architecture.md and two on the pipeline itself, as rules-file entries (a rules
 * file patches them by name). Losses (drawdown, VaR) are compared as
 * magnitudes: "VaR beyond 0.15" is a 5 % quantile return below -0.15.
 * Each has a clear threshold a little inside the limit, so a value hovering
 * around the limit keeps one incident instead of flapping.
 *
 * Risk rules (drawdown, VaR, volatility, correlation, drift) have no `for`:
 * the sample that crosses the limit fires, because a crash cannot wait. The
 * strategy rules whose estimates jitter sample to sample, and VaR with its
 * job, hold their resolve for a keepFiringFor (WARNING_KEEP_FIRING).
 * Every rule has flap detection with Nagios's defaults (DEFAULT_FLAP: 21
 * checks, flapping from 20 % state changes, settled at 5 %): a flapping
 * incident's repeat notifications are held back until it settles.
 * Host rules measure an instant that routinely spikes, so they fire only on a
 * condition sustained for their `for` (pending meanwhile), as Prometheus
 * host alerts do, and wait out the host's start-up (HOST_STARTUP_GRACE).
 */
export const DEFAULT_RULE_SPECS: Readonly<Record<string, RuleSpec>> = {
  drawdown_exceeded: {
    metric: 'currentDrawdown',
    transform: 'negate',
    comparison: '>',
    threshold: 0.1,
    clearThreshold: 0.08,
    level: 'warning',
    subject: 'strategy',
    // Drawdown recovers slowly: one sample back inside 8 % is rarely the end
    // of the episode. Firing is still on the crossing sample.
    keepFiringFor: WARNING_KEEP_FIRING,
    recommendation:
      'Drawdown is beyond 10 %: review open positions and consider cutting exposure until the strategy recovers.',
  },
  volatility_spike: {
    metric: 'annualVolatility',
    comparison: '>',
    threshold: 0.25,
    clearThreshold: 0.22,
    level: 'warning',
    subject: 'strategy',
    // Annualised volatility from a rolling window jumps in and out of the
    // band as single large returns enter and leave the window.
    keepFiringFor: WARNING_KEEP_FIRING,
    recommendation:
      'Annualised volatility is above 25 %: check for regime change and scale position sizes to the volatility target.',
  },
  sharpe_decline: {
    metric: 'sharpeRatio',
    comparison: '<',
    threshold: 0.5,
    clearThreshold: 0.6,
    level: 'warning',
    subject: 'strategy',
    // A Sharpe ratio from fewer observations is noise (RATIO_MIN_OBSERVATIONS).
    minObservations: RATIO_MIN_OBSERVATIONS,
    // The noisiest estimate of the three (7 firings in 90 s on demo-levered
    // in issue 11): five minutes, the top of the 2-5 minute range for warnings.
    keepFiringFor: 5 * MINUTE,
    recommendation:
      'Sharpe is below 0.5: review the strategy signal and costs; consider reducing its allocation.',
  },
  rebalancing_needed: {
    metric: 'weightDrift',
    comparison: '>',
    threshold: 0.1,
    clearThreshold: 0.08,
    level: 'info',
    subject: 'strategy',
    recommendation:
      'A position drifted more than 10 points from its target weight: schedule a rebalance.',
  },
  var_exceeded: {
    metric: 'valueAtRisk',
    transform: 'negate',
    comparison: '>',
    threshold: 0.15,
    clearThreshold: 0.13,
    level: 'critical',
    subject: 'strategy',
    // No `for`: the crossing sample fires and queues the job. keepFiringFor
    // only holds the resolve: VaR that dips under 0.13 and crosses again
    // within two minutes is the same risk episode, and a new incident would
    // queue a second risk-reduction job (cutting exposure twice). Two
    // minutes, not more: a critical that lingers on the dashboard after VaR
    // is back in bounds misleads the desk.
    keepFiringFor: 2 * MINUTE,
    action: EMERGENCY_JOB.riskReduction,
    recommendation:
      'Value at Risk is beyond 15 %: reduce gross exposure now; a risk-reduction job has been queued.',
  },
  correlation_spike: {
    metric: 'correlation',
    comparison: '>',
    threshold: 0.8,
    clearThreshold: 0.75,
    level: 'warning',
    subject: 'strategy',
    recommendation:
      'Correlation to the benchmark is above 0.8: the strategy is close to beta; check diversification.',
  },
  cpu_high: {
    metric: 'cpu',
    comparison: '>',
    threshold: 80,
    clearThreshold: 70,
    level: 'warning',
    subject: 'host',
    // One sample is the busy share of one interval (5 s): builds, GC and
    // start-up saturate a CPU for seconds to a minute as a matter of course.
    // Two minutes (24 samples) above 80 % is load that will hurt latency;
    // Prometheus host-alert practice uses 2 to 10 minutes.
    for: 2 * MINUTE,
    startupGrace: HOST_STARTUP_GRACE,
    recommendation:
      'CPU above 80 %: look for runaway processes or add capacity before latency suffers.',
  },
  memory_high: {
    metric: 'memory',
    comparison: '>',
    threshold: 85,
    clearThreshold: 80,
    level: 'warning',
    subject: 'host',
    // Memory moves slowly and a peak (a batch, a burst of buffers) is
    // released again; the risk is memory that stays high until the host
    // swaps. Five minutes, the usual Prometheus choice for memory.
    for: 5 * MINUTE,
    startupGrace: HOST_STARTUP_GRACE,
    recommendation:
      'Memory above 85 %: check for leaks and large caches; the host is close to swapping.',
  },
  api_slow: {
    metric: 'apiResponseTime',
    comparison: '>',
    threshold: 2.0,
    clearThreshold: 1.5,
    level: 'warning',
    subject: 'host',
    // The value is the probes' latest response time: one slow call (a cold
    // cache, a GC pause, a connection set up) holds it for a probe interval.
    // One minute is several probe runs in a row (every 5-10 s), and short
    // enough that users who wait seconds are not left waiting long.
    for: MINUTE,
    startupGrace: HOST_STARTUP_GRACE,
    recommendation: 'API response time above 2 s: check the probed service and its dependencies.',
  },
  error_rate_high: {
    metric: 'errorRate',
    comparison: '>',
    threshold: 5,
    clearThreshold: 4,
    level: 'critical',
    subject: 'host',
    // Critical with an emergency job, so a false alarm costs a page and a
    // queued job. The rate is already a 60 s average; one more minute above
    // 5 % means failures kept coming for about two minutes, still quick for
    // a broken pipeline (Prometheus error-rate alerts commonly use 1-5m).
    for: MINUTE,
    // Fewer than 20 operations, and one failure alone is above 5 % (1 of 2
    // probe calls at start-up is 50 %); from 20 on it takes two. The
    // default pipeline does about 50 operations a minute with no traffic
    // (probes, host samples and their reads), so it stays watched.
    minVolume: 20,
    startupGrace: HOST_STARTUP_GRACE,
    action: EMERGENCY_JOB.systemCheck,
    recommendation:
      'Error rate above 5 %: a system-check job has been queued; inspect failing probes and dead letters.',
  },
  // The pipeline watching itself (issue 13). Both read figures every
  // collector computes from Redis (service heartbeats, XINFO GROUPS), so they
  // are `system` rules: one incident for the pipeline, however many
  // collectors report it. The threshold of service_down is the configurable
  // time without a heartbeat (seconds; replicas beat every second).
  service_down: {
    metric: 'serviceSilence',
    comparison: '>',
    threshold: 15,
    clearThreshold: 5,
    level: 'critical',
    subject: 'system',
    startupGrace: HOST_STARTUP_GRACE,
    recommendation:
      'A quantmon service has sent no heartbeat for over 15 s: open the pipeline health panel, restart the service that is down and check its log.',
  },
  consumer_lag_growing: {
    metric: 'consumerLagGrowth',
    comparison: '>',
    threshold: 60,
    clearThreshold: 0,
    level: 'warning',
    subject: 'system',
    startupGrace: HOST_STARTUP_GRACE,
    recommendation:
      'A consumer group has fallen further behind for over a minute: check the scorer or alerter replicas in the pipeline health panel and add replicas if they are busy.',
  },
};

/**
 * Default inhibition rules (Alertmanager's inhibit_rules; a rules file's
 * `inhibit:` list replaces them, `inhibit: []` turns them off). A muted
 * incident is still recorded and shown, with `inhibitedBy`; it sends
 * nothing until its source resolves.
 *
 * - A firing critical var_exceeded mutes the warning rules on the same
 *   strategy (drawdown, volatility, Sharpe, correlation). A VaR crash moves
 *   all of them at once: the desk already has the critical page and the
 *   risk-reduction job, and four more warnings on the same strategy in the
 *   same second bury it (the alert storm inhibition exists to stop). Only
 *   `level: warning`: an override that makes one of them critical for a
 *   strategy is not muted. rebalancing_needed (info) is left alone: weight
 *   drift is not a consequence of the loss and still needs its rebalance.
 * - A host's firing error_rate_high mutes api_slow on that host: failing
 *   calls (time-outs) are the slow calls, and the critical already sent
 *   the desk to the failing probes with a system-check job.
 */
export const DEFAULT_INHIBIT: readonly InhibitRule[] = [
  {
    source: { rule: 'var_exceeded', level: 'critical' },
    target: {
      rule: ['drawdown_exceeded', 'volatility_spike', 'sharpe_decline', 'correlation_spike'],
      level: 'warning',
    },
    equal: ['subject'],
  },
  {
    source: { rule: 'error_rate_high' },
    target: { rule: 'api_slow' },
    equal: ['subject'],
  },
];
