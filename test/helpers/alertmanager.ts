import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

export const ALERTMANAGER_BIN = process.env['ALERTMANAGER_BIN'] ?? 'prometheus-alertmanager';

/**
 * Why a real Alertmanager cannot run here (the tests that need one skip
 * with this message), or undefined when it can.
 */
export function alertmanagerUnavailable(): string | undefined {
  const r = spawnSync(ALERTMANAGER_BIN, ['--version'], { encoding: 'utf8' });
  if (r.error) {
    return `no ${ALERTMANAGER_BIN} (${r.error.message}): apt-get install prometheus-alertmanager, or set ALERTMANAGER_BIN`;
  }
  if (r.status !== 0) return `${ALERTMANAGER_BIN} --version exited ${r.status}: ${r.stderr}`;
  return undefined;
}

/** One alert as Alertmanager's `GET /api/v2/alerts` lists it (`gettableAlert`). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  generatorURL?: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[] };
}

export interface TestAlertmanager {
  url: string;
  /**
   * `GET /api/v2/alerts?filter=...` with every state included. Alertmanager
   * lists only unresolved alerts: an alert whose endsAt has passed is gone
   * from this list (it keeps it internally until garbage collection).
   */
  alerts: (filter?: string[]) => Promise<GettableAlert[]>;
  /** Everything it logged, for failure messages. */
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a
 * free loopback port: its own config (a `null` receiver by default, or a
 * webhook with send_resolved), its own storage folder, no cluster gossip.
 */
export async function startAlertmanager(
  opts: { webhookUrl?: string } = {},
): Promise<TestAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'quantmon-alertmanager-'));
  const port = await freePort();
  const config = join(dir, 'alertmanager.yml');
  const receiver = opts.webhookUrl
    ? `  - name: 'null'\n    webhook_configs:\n      - url: '${opts.webhookUrl}'\n        send_resolved: true\n`
    : `  - name: 'null'\n`;
  writeFileSync(
    config,
    `route:\n  receiver: 'null'\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n${receiver}`,
  );
  const proc = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager exited early (${proc.exitCode}):\n${out}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready on ${url} after 15 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const alerts = async (filter: string[] = []): Promise<GettableAlert[]> => {
    const q = new URLSearchParams({
      active: 'true',
      silenced: 'true',
      inhibited: 'true',
      unprocessed: 'true',
    });
    for (const f of filter) q.append('filter', f);
    const res = await fetch(`${url}/api/v2/alerts?${q.toString()}`);
    if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status} ${await res.text()}`);
    return (await res.json()) as GettableAlert[];
  };
  return { url, alerts, output: () => out, stop };
}
