import {
  NOTIFY_QUEUE,
  NotificationJobData,
  URGENT_WORKER_SETTINGS,
  type AlertEvent,
  type Logger,
  type WebhookConfig,
} from '@quantmon/shared';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  signature,
  SIGNATURE_HEADER,
  targetOf,
  TIMESTAMP_HEADER,
  webhookBody,
} from './webhook-payload.js';

export interface NotifierDeps {
  config: WebhookConfig;
  /** Producer connection (Queue). */
  queueConnection: Redis;
  /** A blocking connection of its own for the Worker. */
  workerConnection: Redis;
  bullPrefix: string;
  log: Logger;
  onDelivered?: (kind: string) => void;
  onFailed?: (kind: string) => void;
}

/**
 * The built-in notifier: each firing / resolved / repeat event becomes one
 * BullMQ job per webhook on `quantmon-notifications`, delivered by a Worker
 * in the alerter with retries and exponential backoff. Job ids are derived
 * from the incident, so a replayed event is not delivered twice while the
 * job is retained.
 */
export class Notifier {
  private readonly queue: Queue | undefined;
  private readonly worker: Worker | undefined;
  private readonly targets: Map<string, string>;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: NotifierDeps) {
    const { config } = deps;
    this.targets = new Map(config.urls.map((u) => [targetOf(u), u]));
    if (config.urls.length === 0) return;
    this.queue = new Queue(NOTIFY_QUEUE, {
      connection: deps.queueConnection,
      prefix: deps.bullPrefix,
    });
    this.queue.on('error', (err) => deps.log.warn({ err: err.message }, 'notify queue error'));
    // A delivery taken as its alerter was killed, or as Redis stopped, goes
    // to another alerter's worker within ~15 s, not BullMQ's 15-60 s.
    this.worker = new Worker(NOTIFY_QUEUE, (job: Job) => this.deliver(job), {
      ...URGENT_WORKER_SETTINGS,
      connection: deps.workerConnection,
      prefix: deps.bullPrefix,
      concurrency: 8,
    });
    this.worker.on('error', (err) => deps.log.warn({ err: err.message }, 'notify worker error'));
    this.worker.on('failed', (job, err) => {
      const kind = (job?.data as NotificationJobData | undefined)?.kind ?? 'unknown';
      deps.log.warn(
        { job: job?.id, attempt: job?.attemptsMade, err: err.message },
        'webhook failed',
      );
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) deps.onFailed?.(kind);
    });
  }

  get enabled(): boolean {
    return this.queue !== undefined;
  }

  /** One job per webhook; `seq` tells repeats apart (their notification time). */
  async notify(kind: NotificationJobData['kind'], event: AlertEvent, seq = 0): Promise<void> {
    if (!this.queue) return;
    const { attempts, backoffMs } = this.deps.config;
    const suffix = kind === 'repeat' ? `repeat-${seq}` : kind;
    await this.queue.addBulk(
      [...this.targets.keys()].map((target) => ({
        name: kind,
        data: NotificationJobData.parse({ kind, target, event }),
        opts: {
          jobId: `${event.incidentId}__${suffix}__${target}`,
          attempts,
          backoff: { type: 'exponential', delay: backoffMs },
          removeOnComplete: { age: 24 * 3600, count: 10_000 },
          removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
        },
      })),
    );
  }

  private async deliver(job: Job): Promise<void> {
    const parsed = NotificationJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid notification: ${parsed.error.message}`);
    const url = this.targets.get(parsed.data.target);
    if (!url) throw new UnrecoverableError('webhook target no longer configured');
    const { format, secret, timeoutMs } = this.deps.config;
    const body = JSON.stringify(webhookBody(parsed.data, format));
    const ts = String(Date.now());
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'quantmon-alerter',
      [TIMESTAMP_HEADER]: ts,
    };
    if (secret) headers[SIGNATURE_HEADER] = signature(secret, ts, body);
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.ok) {
      this.deps.onDelivered?.(parsed.data.kind);
      return;
    }
    const msg = `webhook answered ${res.status}`;
    // A client error will not fix itself, except timeouts and rate limits.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw new UnrecoverableError(msg);
    }
    throw new Error(msg);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.worker?.close();
      } catch (err) {
        this.deps.log.warn({ err }, 'closing notify worker');
      }
      try {
        await this.queue?.close();
      } catch (err) {
        this.deps.log.warn({ err }, 'closing notify queue');
      }
    })();
    return this.closing;
  }
}
