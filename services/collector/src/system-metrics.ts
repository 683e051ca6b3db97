import type { SystemSample } from '@quantmon/shared';
import type { HostSampler } from './host-sampler.js';
import { errorRateFields, type PipelineReading, type PipelineStats } from './pipeline-stats.js';
import { apiResponseTime } from './probe-stats.js';
import type { ProbeRunner } from './probes.js';

export interface SystemMetricsOptions {
  hostId: string;
  host: HostSampler;
  probes: ProbeRunner;
  pipeline: PipelineStats;
  /** `apiResponseTime` percentile over the probes' latest times (100: worst). */
  probePercentile: number;
}

/**
 * One SystemSample from the three measured sources: the host (CPU, memory,
 * disk, network, load, cache hit rate), the HTTP probes (API response time)
 * and the pipeline itself (error rate, processing time). A source that
 * could not be read leaves its fields out.
 */
export class SystemMetrics {
  private lastAt: number | undefined;

  constructor(private readonly opts: SystemMetricsOptions) {}

  /** First readings of every rate, so the first sample has them all. */
  async prime(now: number): Promise<void> {
    try {
      await Promise.all([this.opts.host.prime(now), this.readPipeline(now)]);
    } catch {
      // a source that cannot be read now is primed by the first sample instead
    }
    this.lastAt = now;
  }

  async sample(now: number): Promise<SystemSample> {
    const [host, pipeline] = await Promise.all([
      this.opts.host.sample(now),
      this.readPipeline(now),
    ]);
    this.lastAt = now;
    const s: SystemSample = { host: this.opts.hostId, ts: now, ...host };
    const probes = this.opts.probes.results();
    if (probes.length > 0) {
      s.probes = probes;
      const api = apiResponseTime(probes, this.opts.probePercentile);
      if (api !== undefined) s.apiResponseTime = api;
    }
    if (pipeline) {
      Object.assign(s, errorRateFields(this.opts.probes.window.counts(now), pipeline));
      if (pipeline.processingTimeP50 !== undefined)
        s.processingTimeP50 = pipeline.processingTimeP50;
      if (pipeline.processingTimeP99 !== undefined)
        s.processingTimeP99 = pipeline.processingTimeP99;
      if (pipeline.serviceSilence !== undefined) s.serviceSilence = pipeline.serviceSilence;
      if (pipeline.consumerLagGrowth !== undefined)
        s.consumerLagGrowth = pipeline.consumerLagGrowth;
    }
    return s;
  }

  private async readPipeline(now: number): Promise<PipelineReading | undefined> {
    try {
      return await this.opts.pipeline.read(now, this.lastAt ?? now);
    } catch {
      return undefined; // Redis unreachable: no pipeline figures this interval
    }
  }
}
