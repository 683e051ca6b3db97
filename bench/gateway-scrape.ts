/** The gateway's own figures from its /metrics, for bench/gateway.ts. */

export interface GatewayScrape {
  /** Cumulative `quantmon_gateway_entry_delay_seconds` buckets: [le seconds, count]. */
  delay: [number, number][];
  /** Event-loop delay since the previous scrape (prom-client resets it on collect), ms. */
  loopP99: number;
  loopMax: number;
}

/** Read the gateway's /metrics: its XADD-to-broadcast histogram and its event-loop delay. */
export async function scrapeGateway(port: number): Promise<GatewayScrape> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const delay: [number, number][] = [];
  let loopP99 = 0;
  let loopMax = 0;
  for (const line of text.split('\n')) {
    const b = /^quantmon_gateway_entry_delay_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)/.exec(
      line,
    );
    if (b) delay.push([b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2])]);
    // prom-client samples every 10 ms and records the timer interval: take the 10 ms off.
    const l = /^quantmon_nodejs_eventloop_lag_(p99|max)_seconds\{[^}]*\} (\S+)/.exec(line);
    if (l?.[1] === 'p99') loopP99 = Math.max(0, Number(l[2]) * 1000 - 10);
    if (l?.[1] === 'max') loopMax = Math.max(0, Number(l[2]) * 1000 - 10);
  }
  return { delay, loopP99, loopMax };
}

/** Quantile of the difference of two cumulative histograms, interpolated within a bucket, ms. */
export function bucketQuantile(a: [number, number][], b: [number, number][], q: number): number {
  const d = b.map(([le, c], i) => [le, c - (a[i]?.[1] ?? 0)] as const);
  const total = d.at(-1)?.[1] ?? 0;
  if (total === 0) return 0;
  const rank = q * total;
  let prevLe = 0;
  let prevC = 0;
  for (const [le, c] of d) {
    if (c >= rank) {
      if (le === Infinity) return prevLe * 1000;
      return (prevLe + ((le - prevLe) * (rank - prevC)) / Math.max(1, c - prevC)) * 1000;
    }
    prevLe = le;
    prevC = c;
  }
  return prevLe * 1000;
}
