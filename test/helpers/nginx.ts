import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

export const NGINX_BIN = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';

export interface TestNginx {
  port: number;
  dir: string;
  /** error.log so far, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * The load balancer of deploy/nginx.conf, reduced to loopback: WebSocket
 * upgrade, the Host header passed with its port (the gateway's same-origin
 * check compares it to Origin), long read timeouts, and on a dead replica
 * the next one. Runs as a foreground child with every path in a temp dir.
 */
export function nginxConfig(dir: string, port: number, upstreams: number[]): string {
  // As root, workers would switch to "nobody" and lose access to the temp dir.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `
daemon off;
${user}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gateways {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`;
}

export async function startNginx(upstreams: number[]): Promise<TestNginx> {
  if (!existsSync(NGINX_BIN))
    throw new Error(`no nginx at ${NGINX_BIN} (apt-get install nginx-light)`);
  const dir = mkdtempSync(join(tmpdir(), 'quantmon-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, upstreams));
  const errorLog = join(dir, 'error.log');
  const proc: ChildProcess = spawn(NGINX_BIN, ['-p', dir, '-c', conf, '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const log = (): string => stderr + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${log()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx not answering on ${port}: ${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    dir,
    log,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
