import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listeningPort } from '@quantmon/shared';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

/**
 * A webhook endpoint for tests. `behave(n, body)` decides per request (n
 * counts requests with the same body's fingerprint): a status, or 'hang' to
 * never answer (the notifier's timeout must give up).
 */
export class WebhookReceiver {
  private constructor(
    readonly server: Server,
    readonly url: string,
    readonly ok: Received[],
    readonly attempts: Map<string, number>,
  ) {}

  static async start(
    behave: (attempt: number, json: unknown) => number | 'hang' = () => 200,
  ): Promise<WebhookReceiver> {
    const ok: Received[] = [];
    const attempts = new Map<string, number>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const key = fingerprint(json);
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        const outcome = behave(n, json);
        if (outcome === 'hang') return; // never answers
        if (outcome < 300) ok.push({ headers: req.headers, body, json, at: Date.now() });
        res.writeHead(outcome).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return new WebhookReceiver(
      server,
      `http://127.0.0.1:${listeningPort(server)}/hook`,
      ok,
      attempts,
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** incidentId + status of an Alertmanager-shaped or Slack body. */
export function fingerprint(json: unknown): string {
  const j = json as {
    status?: string;
    alerts?: { fingerprint?: string }[];
    quantmon?: { kind?: string };
    text?: string;
    attachments?: { fields?: { title: string; value: string }[] }[];
  };
  if (j?.alerts) return `${j.alerts[0]?.fingerprint}|${j.quantmon?.kind ?? j.status}`;
  const id = j?.attachments?.[0]?.fields?.find((x) => x.title === 'Incident')?.value;
  return `${id}|${j?.text?.slice(0, 12)}`;
}
