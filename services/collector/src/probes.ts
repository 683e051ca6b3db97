import type { Logger, ProbeResult, ProbeSpec } from '@quantmon/shared';
import { abortableSleep } from '@quantmon/shared';
import { ProbeWindow, statusExpected } from './probe-stats.js';

/**
 * Runs each configured HTTP probe on its own interval (a slow probe never
 * overlaps itself, and never delays another), keeping each probe's latest
 * result and every run of the last minute. Time is measured to the response
 * headers; the body is discarded unread, so a large page costs nothing.
 * Connections are kept alive between runs (what a client of the API sees).
 */
export class ProbeRunner {
  private readonly latest = new Map<string, ProbeResult>();
  readonly window: ProbeWindow;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly specs: readonly ProbeSpec[],
    private readonly log: Logger,
    windowMs = 60_000,
  ) {
    this.window = new ProbeWindow(windowMs);
  }

  start(signal: AbortSignal): void {
    this.loops = this.specs.map((spec) => this.loop(spec, signal));
  }

  /** Resolves when every loop has stopped (after the signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.loops);
  }

  /** The latest result of each probe that ran at least once, in configuration order. */
  results(): ProbeResult[] {
    return this.specs.flatMap((s) => {
      const r = this.latest.get(s.name);
      return r ? [r] : [];
    });
  }

  private async loop(spec: ProbeSpec, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = Date.now();
      const result = await runProbe(spec, signal);
      if (signal.aborted) break;
      this.latest.set(spec.name, result);
      this.window.add(Date.now(), result.ok);
      if (!result.ok) {
        this.log.debug(
          { probe: spec.name, status: result.status, seconds: result.seconds },
          'probe failed',
        );
      }
      await abortableSleep(Math.max(0, spec.intervalMs - (Date.now() - started)), signal);
    }
  }
}

/** One probe run; never throws. */
export async function runProbe(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const ts = Date.now();
  const t0 = performance.now();
  const timeout = AbortSignal.timeout(spec.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await fetch(spec.url, {
      method: spec.method,
      redirect: 'manual',
      signal: abort,
      ...(spec.headers ? { headers: spec.headers } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    await res.body?.cancel().catch(() => undefined);
    return {
      name: spec.name,
      ok: statusExpected(spec, res.status),
      seconds,
      status: res.status,
      ts,
    };
  } catch {
    return { name: spec.name, ok: false, seconds: (performance.now() - t0) / 1000, ts };
  }
}
