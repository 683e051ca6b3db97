import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { Logger, SystemSample } from '@quantmon/shared';
import si from 'systeminformation';
import { cpuPercent, parseProcStat, type CpuTimes } from './proc-stat.js';
import { hitRatePercent, parseKeyspaceStats } from './redis-info.js';

/** Disk use changes slowly and `fsSize` spawns `df`: refresh it at most this often. */
const DISK_REFRESH_MS = 60_000;

export interface HostSamplerOptions {
  hostId: string;
  diskMounts: string[];
  /** Returns Redis `INFO stats` text (the cache whose hit rate we report). */
  redisInfo: () => Promise<string>;
  log: Logger;
}

/**
 * Measures one host cheaply: CPU from /proc/stat deltas (read as a file,
 * where systeminformation would spawn `cat`), memory and network from
 * systeminformation (file reads), disk from `df` once a minute, cache hit
 * rate from Redis INFO deltas. A source that fails is left out of the sample,
 * never guessed.
 */
export class HostSampler {
  private prevCpu: CpuTimes | undefined;
  private prevKeyspace: { hits: number; misses: number } | undefined;
  private disk: { value: number | undefined; at: number } = { value: undefined, at: 0 };

  constructor(private readonly opts: HostSamplerOptions) {}

  async sample(now: number): Promise<SystemSample> {
    const [cpu, memory, net, disk, cacheHitRate] = await Promise.all([
      this.cpu(),
      this.memory(),
      this.network(),
      this.diskUse(now),
      this.cacheHitRate(),
    ]);
    const s: SystemSample = { host: this.opts.hostId, ts: now, load1: loadavg()[0] ?? 0 };
    if (cpu !== undefined) s.cpu = cpu;
    if (memory !== undefined) s.memory = memory;
    if (disk !== undefined) s.disk = disk;
    if (net) {
      s.netInBytesPerSec = net.rx;
      s.netOutBytesPerSec = net.tx;
    }
    if (cacheHitRate !== undefined) s.cacheHitRate = cacheHitRate;
    return s;
  }

  private async cpu(): Promise<number | undefined> {
    try {
      const cur = parseProcStat(await readFile('/proc/stat', 'utf8'));
      if (!cur) return undefined;
      const prev = this.prevCpu;
      this.prevCpu = cur;
      return prev ? cpuPercent(prev, cur) : undefined;
    } catch {
      const load = await si.currentLoad(); // not Linux: let systeminformation do it
      return load.currentLoad;
    }
  }

  private async memory(): Promise<number | undefined> {
    try {
      const m = await si.mem();
      // `active` excludes buffers and page cache, which the kernel gives back on demand.
      return m.total > 0 ? (m.active / m.total) * 100 : undefined;
    } catch (err) {
      this.opts.log.warn({ err }, 'memory reading failed');
      return undefined;
    }
  }

  private async network(): Promise<{ rx: number; tx: number } | undefined> {
    try {
      const stats = await si.networkStats('*');
      let rx = 0;
      let tx = 0;
      let measured = false;
      for (const n of stats) {
        if (n.iface === 'lo') continue;
        // The first call has no previous reading: rates are null, not zero.
        if (n.rx_sec === null || n.tx_sec === null || n.rx_sec < 0) continue;
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
    try {
      const all = await si.fsSize();
      const watched = all.filter((f) => this.opts.diskMounts.includes(f.mount));
      this.disk.value = watched.length ? Math.max(...watched.map((f) => f.use)) : undefined;
    } catch (err) {
      this.opts.log.warn({ err }, 'disk reading failed');
      this.disk.value = undefined;
    }
    return this.disk.value;
  }

  private async cacheHitRate(): Promise<number | undefined> {
    try {
      const cur = parseKeyspaceStats(await this.opts.redisInfo());
      if (!cur) return undefined;
      const prev = this.prevKeyspace;
      this.prevKeyspace = cur;
      return prev ? hitRatePercent(prev, cur) : undefined;
    } catch {
      return undefined;
    }
  }
}
