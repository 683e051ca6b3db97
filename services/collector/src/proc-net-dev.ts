/** Cumulative byte counters summed over interfaces, from /proc/net/dev. */
export interface NetCounters {
  rx: number;
  tx: number;
}

/**
 * Parse /proc/net/dev ("iface: rx_bytes rx_packets ... tx_bytes ..."),
 * summing every interface except loopback. Reading this one file replaces
 * systeminformation's networkStats, which spawns a shell of `cat`s per
 * interface on every call.
 */
export function parseNetDev(text: string): NetCounters | undefined {
  let rx = 0;
  let tx = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    if (iface === 'lo' || iface === '' || iface.includes('|')) continue;
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const r = v[0];
    const t = v[8];
    if (r === undefined || t === undefined || !Number.isFinite(r) || !Number.isFinite(t)) continue;
    rx += r;
    tx += t;
    found = true;
  }
  return found ? { rx, tx } : undefined;
}

/** Bytes per second between two readings; undefined when no time passed or a counter went back. */
export function netRates(
  prev: { at: number; c: NetCounters },
  cur: { at: number; c: NetCounters },
): { rx: number; tx: number } | undefined {
  const dt = (cur.at - prev.at) / 1000;
  const drx = cur.c.rx - prev.c.rx;
  const dtx = cur.c.tx - prev.c.tx;
  if (dt <= 0 || drx < 0 || dtx < 0) return undefined;
  return { rx: drx / dt, tx: dtx / dt };
}
