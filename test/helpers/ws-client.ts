import { ServerFrame } from '@quantmon/shared';
import WebSocket from 'ws';

export type ScoreFrame = Extract<ServerFrame, { type: 'score' }>;

/** Matches the `score` frame of the update whose sample id is `id` (for `waitFor`). */
export const isScore =
  (id: string) =>
  (f: ServerFrame): f is ScoreFrame =>
    f.type === 'score' && f.data.id === id;

/** A real `ws` client that validates and keeps every frame it receives. */
export class TestWsClient {
  readonly frames: ServerFrame[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(ServerFrame.parse(JSON.parse(data.toString())));
    });
  }

  static async connect(url: string): Promise<TestWsClient> {
    // The listener goes on before 'open': the server's hello can arrive in
    // the same read as the upgrade answer, and is emitted before an awaiting
    // caller could attach one (seen under load: a test got no hello at all).
    const client = new TestWsClient(new WebSocket(url));
    await new Promise<void>((res, rej) => {
      client.ws.once('open', () => res());
      client.ws.once('error', rej);
    });
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The first frame (already received or arriving within timeoutMs) that matches. */
  async waitFor<T extends ServerFrame>(
    match: (f: ServerFrame) => f is T,
    timeoutMs?: number,
  ): Promise<T>;
  async waitFor(match: (f: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  async waitFor(match: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(match);
      if (f) return f;
      if (Date.now() > deadline) {
        throw new Error(
          `no matching frame in ${timeoutMs} ms; got ${this.frames.map((x) => x.type).join(',')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.ws.close();
  }
}
