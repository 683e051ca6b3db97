import { createServer, type Server } from 'node:http';
import { createRegistry } from '@quantmon/shared';
import { Counter } from 'prom-client';
import type { Supervisor } from './supervisor.js';

/**
 * `npm start`'s own /metrics (Prometheus text): how often it restarted each
 * service (`quantmon_supervisor_restarts_total{child}`), plus the Node
 * defaults of the supervising process. Loopback only.
 */
export async function serveSupervisorMetrics(
  supervisor: Supervisor,
  port: number,
  host = '127.0.0.1',
): Promise<Server> {
  const registry = createRegistry('supervisor');
  new Counter({
    name: 'quantmon_supervisor_restarts_total',
    help: 'Services npm start restarted after they exited unexpectedly, by child (scorer, scorer-2, ...)',
    labelNames: ['child'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [child, n] of supervisor.counts()) this.inc({ child }, n);
    },
  });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      void registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref(); // never what keeps npm start alive
  return server;
}
