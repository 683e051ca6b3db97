import type { ServerFrame, Topic } from '@quantmon/shared';
import { ServerFrame as ServerFrameSchema } from '@quantmon/shared';
import WebSocket from 'ws';
import { ResumeTracker } from '../../services/gateway/public-src/resume-tracker.js';

type DataFrame = Extract<ServerFrame, { type: 'score' | 'system' | 'alert' }>;

export interface ResumingClientOptions {
  topics: Topic[];
  /** Reconnect (with `since`) after every close not asked for by stop(). */
  reconnect?: boolean;
  reconnectDelayMs?: number;
  /** Extra headers on the upgrade, e.g. Origin or Authorization. */
  headers?: Record<string, string>;
}

/**
 * A WebSocket client that behaves like the dashboard (with the dashboard's
 * own ResumeTracker): it remembers the newest position per stream and
 * partition and, when the connection drops, reconnects and subscribes with
 * `since` in the partitioned form. Every frame from every connection is
 * kept, validated against the ServerFrame schema.
 */
export class ResumingClient {
  readonly frames: ServerFrame[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  readonly servers: string[] = [];
  readonly positions = new ResumeTracker();
  ws: WebSocket | undefined;
  private stopped = false;
  private subscribedCount = 0;

  constructor(
    private readonly url: string,
    private readonly opts: ResumingClientOptions,
  ) {}

  /** Connect and wait for the server to confirm the subscription. */
  async start(): Promise<this> {
    this.connect();
    await this.waitFor(() => this.subscribedCount >= 1, 10_000, 'first subscription');
    return this;
  }

  get connections(): number {
    return this.servers.length;
  }

  /** Data frames (score, system, alert), in arrival order across connections. */
  data(): DataFrame[] {
    return this.frames.filter(
      (f): f is DataFrame => f.type === 'score' || f.type === 'system' || f.type === 'alert',
    );
  }

  alerts(): Extract<ServerFrame, { type: 'alert' }>[] {
    return this.frames.filter((f) => f.type === 'alert');
  }

  async waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; frames: ${this.frames
            .slice(-10)
            .map((f) => f.type)
            .join(',')}; closes: ${JSON.stringify(this.closes)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  private connect(): void {
    const ws = new WebSocket(this.url, { headers: this.opts.headers ?? {} });
    this.ws = ws;
    ws.on('open', () => {
      const since = this.positions.since();
      ws.send(
        JSON.stringify({
          type: 'subscribe',
          topics: this.opts.topics,
          ...(since ? { since } : {}),
        }),
      );
    });
    ws.on('message', (raw) => {
      const f = ServerFrameSchema.parse(JSON.parse(String(raw)));
      this.frames.push(f);
      if (f.type === 'hello') this.servers.push(f.server);
      if (f.type === 'subscribed') this.subscribedCount++;
      this.positions.track(f);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      this.closes.push({ code, reason: String(reason) });
      if (this.stopped || !this.opts.reconnect) return;
      setTimeout(() => {
        if (!this.stopped) this.connect();
      }, this.opts.reconnectDelayMs ?? 100);
    });
  }
}
