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
 * A link that has been quiet this long is asked whether it is still there
 * (`{"type":"ping"}`, answered with `pong` at once, paced or not)...
 */
export const QUIET_MS = 5_000;
/**
 * ...and one that does not answer within this is taken for dead. The
 * browser cannot see the gateway's WebSocket-level pings, and a gateway
 * that stopped (SIGSTOP, a frozen host, a half-open connection through a
 * balancer) closes nothing: without this the page would say "live" over
 * frozen figures for as long as the TCP connection lingers.
 */
export const ANSWER_MS = 5_000;

/**
 * What the link check does now: nothing, ask (`ping`), or give up.
 * `heard`: when the last frame came; `asked`: when the pending ping was
 * sent, if one is. Pure, so timers throttled in a background tab (late
 * ticks) can neither give up on a link that was talking nor skip the ask.
 */
export function linkCheck(
  now: number,
  heard: number,
  asked: number | undefined,
): 'ok' | 'ask' | 'dead' {
  if (asked !== undefined && heard < asked) return now - asked >= ANSWER_MS ? 'dead' : 'ok';
  return now - heard >= QUIET_MS ? 'ask' : 'ok';
}

/**
 * The dashboard's link to `/ws`: reconnects with jittered exponential
 * backoff (0.5 s doubling to 15 s) and resumes, sending the newest position
 * it saw per stream and partition so the gateway replays what was missed.
 * A link silent past QUIET_MS + ANSWER_MS is dropped and reconnected.
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
    const opened = Date.now();
    let heard = opened;
    let asked: number | undefined;
    const check = setInterval(() => {
      const now = Date.now();
      // A handshake a stopped gateway's kernel took and nobody answers counts as a silent link.
      const connecting = ws.readyState === WebSocket.CONNECTING;
      const step = connecting
        ? now - opened >= QUIET_MS + ANSWER_MS
          ? 'dead'
          : 'ok'
        : linkCheck(now, heard, asked);
      if (step === 'ask') {
        asked = now;
        ws.send('{"type":"ping"}');
      } else if (step === 'dead') {
        clearInterval(check);
        this.ws = undefined; // its close, whenever the browser gets to it, is not ours to handle
        ws.close();
        this.retry(`no answer from the gateway in ${(QUIET_MS + ANSWER_MS) / 1000} s`);
      }
    }, 1000);
    ws.onopen = () => {
      heard = Date.now();
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
      heard = Date.now();
      const f = JSON.parse(e.data) as ServerFrame;
      this.positions.track(f);
      if (f.type === 'subscribed') {
        this.attempt = 0;
        this.opts.onState('live', '');
      }
      this.opts.onFrame(f);
    };
    ws.onclose = (e: CloseEvent) => {
      clearInterval(check);
      if (this.ws !== ws) return;
      if (e.code === UNAUTHORIZED) {
        this.opts.onState('unauthorized', 'add ?token=… to the address');
        return;
      }
      this.retry(e.code ? `close ${e.code}` : '');
    };
  }

  /** Connect again after a jittered backoff, saying why and when. */
  private retry(why: string): void {
    const delay = Math.round(
      Math.min(15_000, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2),
    );
    this.opts.onState(
      'reconnecting',
      `retry in ${(delay / 1000).toFixed(1)} s${why ? ` (${why})` : ''}`,
    );
    setTimeout(() => this.connect(), delay);
  }
}
