/**
 * A valid emergency job's data (EmergencyJobData) for a firing var_exceeded
 * incident on `strategy/<strategy>`, as the alerter enqueues it.
 */
export function emergencyJobData(strategy: string): {
  alert: Record<string, unknown> & { incidentId: string };
  action: string;
  enqueuedAt: number;
} {
  const now = Date.now();
  return {
    alert: {
      incidentId: `var_exceeded__strategy-${strategy}__1-0`,
      rule: 'var_exceeded',
      level: 'critical',
      subject: `strategy/${strategy}`,
      state: 'firing',
      value: 0.2,
      threshold: 0.15,
      metric: 'valueAtRisk',
      message: 'VaR beyond threshold',
      recommendation: 'reduce exposure',
      startsAt: now,
      endsAt: null,
      ts: now,
    },
    action: 'risk-reduction',
    enqueuedAt: now,
  };
}
