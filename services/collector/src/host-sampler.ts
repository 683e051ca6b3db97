import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { CacheResult, Logger } from '@quantmon/shared';
import si from 'systeminformation';
import { highestDiskUse } from './disk-usage.js';
import { memoryPercent } from './proc-meminfo.js';
import { netRates, parseNetDev, type NetCounters } from './proc-net-dev.js';
import { cpuPercent, parseProcStat, type CpuTimes } from './proc-stat.js';
import { cacheHitRates, parseKeyspaceStats, type KeyspaceStats } from './redis-info.js';

/** statfs is one syscall, but disk use moves slowly: refresh at most this often. */
const DISK_REFRESH_MS = 10_000;

/** A Redis whose keyspace hit rate is reported; `info` returns `INFO stats` text. */
export interface CacheSource {
  name: string;
  info: () => Promise<string>;
}

export interface HostSamplerOptions {
  diskMounts: string[];
  /** Quantmon's own Redis first, then the instances the user listed. */
  caches: CacheSource[];
  log: Logger;
  /** Where to read /proc (tests point it elsewhere). */
  procRoot?: string;
}

export interface HostReading {
  cpu?: number;
  memory?: number;
  disk?: number;
  netInBytesPerSec?: number;
  netOutBytesPerSec?: number;
  load1: number;
  cacheHitRate?: number;
  caches?: CacheResult[];
}

/**
 * Measures one host cheaply, without child processes on Linux: CPU from
 * /proc/stat deltas, memory from /proc/meminfo, network from /proc/net/dev
 * deltas, disk from statfs(2), load from os.loadavg(), cache hit rate from
 * INFO stats deltas of each watched Redis. Rates need two readings:
 * `prime()` takes the first so that the first sample is complete. A source
 * that fails is left out of the sample, never guessed; off Linux the /proc
 * sources fall back to systeminformation.
 */
export class HostSampler {
  private prevCpu: CpuTimes | undefined;
  private prevNet: { at: number; c: NetCounters } | undefined;
  private readonly prevCache = new Map<string, KeyspaceStats | undefined>();
  private disk: { value: number | undefined; at: number } = { value: undefined, at: -Infinity };
  private readonly proc: string;

  constructor(private readonly opts: HostSamplerOptions) {
    this.proc = opts.procRoot ?? '/proc';
  }

  /** Take the first readings of every delta-based source. */
  async prime(now: number): Promise<void> {
    await this.sample(now);
  }

  async sample(now: number): Promise<HostReading> {
    const [cpu, memory, net, disk, caches] = await Promise.all([
      this.cpu(),
      this.memory(),
      this.network(now),
      this.diskUse(now),
      this.cacheHitRates(),
    ]);
    const r: HostReading = { load1: loadavg()[0] ?? 0 };
    if (cpu !== undefined) r.cpu = cpu;
    if (memory !== undefined) r.memory = memory;
    if (disk !== undefined) r.disk = disk;
    if (net) {
      r.netInBytesPerSec = net.rx;
      r.netOutBytesPerSec = net.tx;
    }
    if (caches.pooled !== undefined) r.cacheHitRate = caches.pooled;
    if (caches.each.length > 0) r.caches = caches.each;
    return r;
  }

  private async cpu(): Promise<number | undefined> {
    let cur: CpuTimes | undefined;
    try {
      cur = parseProcStat(await readFile(`${this.proc}/stat`, 'utf8'));
    } catch {
      return (await si.currentLoad()).currentLoad; // not Linux
    }
    if (!cur) return undefined;
    const prev = this.prevCpu;
    this.prevCpu = cur;
    return prev ? cpuPercent(prev, cur) : undefined;
  }

  private async memory(): Promise<number | undefined> {
    try {
      return memoryPercent(await readFile(`${this.proc}/meminfo`, 'utf8'));
    } catch {
      try {
        const m = await si.mem();
        return m.total > 0 ? (m.active / m.total) * 100 : undefined;
      } catch (err) {
        this.opts.log.warn({ err }, 'memory reading failed');
        return undefined;
      }
    }
  }

  private async network(now: number): Promise<{ rx: number; tx: number } | undefined> {
    let c: NetCounters | undefined;
    try {
      c = parseNetDev(await readFile(`${this.proc}/net/dev`, 'utf8'));
    } catch {
      return this.networkFallback();
    }
    if (!c) return undefined;
    const prev = this.prevNet;
    this.prevNet = { at: now, c };
    return prev ? netRates(prev, this.prevNet) : undefined;
  }

  private async networkFallback(): Promise<{ rx: number; tx: number } | undefined> {
    try {
      let rx = 0;
      let tx = 0;
      let measured = false;
      for (const n of await si.networkStats('*')) {
        if (n.iface === 'lo' || n.rx_sec === null || n.tx_sec === null || n.rx_sec < 0) continue;
        rx += n.rx_sec;
        tx += n.tx_sec;
        measured = true;
      }
      return measured ? { rx, tx } : undefined;
    } catch {
      return undefined;
    }
  }

  private async diskUse(now: number): Promise<number | undefined> {
    if (now - this.disk.at < DISK_REFRESH_MS) return this.disk.value;
    this.disk.at = now;
    this.disk.value = await highestDiskUse(this.opts.diskMounts);
    return this.disk.value;
  }

  private async cacheHitRates(): Promise<ReturnType<typeof cacheHitRates>> {
    const readings = await Promise.all(
      this.opts.caches.map(async (c) => {
        let cur: KeyspaceStats | undefined;
        try {
          cur = parseKeyspaceStats(await c.info());
        } catch {
          cur = undefined; // unreachable: no rate this interval, and none for the next delta
        }
        const prev = this.prevCache.get(c.name);
        this.prevCache.set(c.name, cur);
        return { name: c.name, prev, cur };
      }),
    );
    return cacheHitRates(readings);
  }
}
