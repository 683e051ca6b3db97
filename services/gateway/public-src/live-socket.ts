import type { ServerFrame, Topic } from '@quantmon/shared';
import { authToken } from './api.js';
import { ResumeTracker } from './resume-tracker.js';

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface LiveSocketOptions {
  topics: Topic[];
  onFrame: (f: ServerFrame) => void;
  onState: (s: LinkState, detail: string) => void;
}

const UNAUTHORIZED = 4401;

/**
 * The longest pace the gateway takes: a copy of `MAX_PACING_MS` (the
 * shared schemas), because the page imports only types from the shared
 * package and so keeps zod out of its bundle; live-socket.test.ts checks
 * that the two agree.
 */
const MAX_PACE_MS = 60_000;

/**
 * `?pace=<ms>` in the page's address: a wallboard's live score and system
 * frames at most every so many ms (subscribe's `intervalMs`: the gateway
 * sends the latest of each strategy and host; alerts still at once).
 * Absent, or not a whole number of ms up to a minute: every frame.
 */
export function paceFromAddress(search: string): number | undefined {
  const raw = new URLSearchParams(search).get('pace');
  if (raw === null || !/^\d{1,5}$/.test(raw)) return undefined;
  const ms = Number(raw);
  return ms <= MAX_PACE_MS ? ms : undefined;
}

/**
 * The dashboard's link to `/ws`: reconnects with jittered exponential
 * backoff (0.5 s doubling to 15 s) and resumes, sending the newest position
 * it saw per stream and partition so the gateway replays what was missed.
 */
export class LiveSocket {
  readonly positions = new ResumeTracker();
  private attempt = 0;
  private ws: WebSocket | undefined;

  constructor(private readonly opts: LiveSocketOptions) {}

  start(): void {
    this.opts.onState('connecting', '');
    this.connect();
  }

  private connect(): void {
    const token = authToken();
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const q = token ? `?token=${encodeURIComponent(token)}` : '';
    const ws = new WebSocket(`${proto}://${location.host}/ws${q}`);
    const pace = paceFromAddress(location.search);
    this.ws = ws;
    ws.onopen = () => {
      const since = this.positions.since();
      ws.send(
        JSON.stringify({
          type: 'subscribe',
          topics: this.opts.topics,
          ...(since ? { since } : {}),
          // The screen shows no span: its extremes are for the alerter, and
          // they are most of a conflated update's bytes.
          omit: ['span'],
          ...(pace === undefined ? {} : { intervalMs: pace }),
        }),
      );
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      const f = JSON.parse(e.data) as ServerFrame;
      this.positions.track(f);
      if (f.type === 'subscribed') {
        this.attempt = 0;
        this.opts.onState('live', '');
      }
      this.opts.onFrame(f);
    };
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return;
      if (e.code === UNAUTHORIZED) {
        this.opts.onState('unauthorized', 'add ?token=… to the address');
        return;
      }
      const delay = Math.round(
        Math.min(15_000, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2),
      );
      this.opts.onState(
        'reconnecting',
        `retry in ${(delay / 1000).toFixed(1)} s${e.code ? ` (close ${e.code})` : ''}`,
      );
      setTimeout(() => this.connect(), delay);
    };
  }
}
