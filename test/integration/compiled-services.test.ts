import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce } from '../helpers/build-once.js';
import { freePort, startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, ROOT } from '../helpers/services.js';

const SERVICES = ['gateway', 'alerter', 'scorer', 'collector'] as const;
type Name = (typeof SERVICES)[number];
const PORT_VAR: Record<Name, string> = {
  collector: 'COLLECTOR_PORT',
  scorer: 'SCORER_PORT',
  alerter: 'ALERTER_PORT',
  gateway: 'GATEWAY_PORT',
};

/** The runner's environment without NODE_OPTIONS (vitest's loader): the plain node an image runs. */
function withoutNodeOptions(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

/**
 * `npm run build`'s output runs on plain node: each service as
 * `node services/<name>/dist/main.js` (no tsx, no TypeScript), with
 * @quantmon/shared resolved to its compiled dist/. CI builds before the
 * tests and says so with QUANTMON_BUILT=1; otherwise the run builds once
 * (build-once.ts), for every file that needs it.
 */
describe('compiled services (npm run build)', () => {
  let redis: TestRedis;
  const procs = new Map<Name, { proc: ChildProcess; port: number; out: () => string }>();

  beforeAll(async () => {
    await buildOnce('all');
    for (const name of SERVICES) {
      const main = join(ROOT, 'services', name, 'dist', 'main.js');
      expect(existsSync(main), `${main} (npm run build)`).toBe(true);
    }
    redis = await startTestRedis();
  }, 240_000);

  afterAll(async () => {
    await Promise.all(
      [...procs.values()].map(async ({ proc }) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }),
    );
    await redis?.dispose();
  }, 60_000);

  it('starts every service from dist/, healthy, and carries a sample to the gateway', async () => {
    const prefix = uniquePrefix('compiled');
    // All four at once (nothing is posted until every one is healthy); 90 s each:
    // on a loaded 2-core machine a start has taken over 30 s.
    for (const name of SERVICES) {
      const port = await freePort();
      const env = withoutNodeOptions();
      const proc = spawn(process.execPath, [`services/${name}/dist/main.js`], {
        cwd: ROOT,
        env: {
          ...env,
          REDIS_URL: redis.url,
          QUANTMON_PREFIX: prefix,
          BULLMQ_PREFIX: `${prefix}-bull`,
          SYSTEM_INTERVAL_MS: '500',
          LOG_LEVEL: 'warn',
          [PORT_VAR[name]]: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      procs.set(name, { proc, port, out: () => out });
    }
    await Promise.all(
      [...procs].map(async ([name, { proc, port, out }]) => {
        const health = await eventually(
          async () => {
            if (proc.exitCode !== null) throw new Error(`${name} exited:\n${out()}`);
            try {
              const res = await fetch(`http://127.0.0.1:${port}/healthz`);
              return res.ok
                ? ((await res.json()) as { checks: Record<string, boolean> })
                : undefined;
            } catch {
              return undefined;
            }
          },
          90_000,
          `${name} healthy`,
        );
        expect(health.checks['redis']).toBe(true);
      }),
    );
    const collector = procs.get('collector')!;
    const res = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ strategy: 'compiled-a', ts: Date.now(), return: 0.01 }),
    });
    expect(res.status).toBe(202);
    const gateway = procs.get('gateway')!;
    await eventually(
      async () => {
        const summary = (await (
          await fetch(`http://127.0.0.1:${gateway.port}/api/summary`)
        ).json()) as { strategies: { strategy: string }[] };
        return summary.strategies.some((s) => s.strategy === 'compiled-a') ? true : undefined;
      },
      30_000,
      'the score of compiled-a on the gateway',
    );
    // The dashboard bundle is part of the build.
    const page = await fetch(`http://127.0.0.1:${gateway.port}/dist/app.js`);
    expect(page.status).toBe(200);
  }, 180_000);

  it('lets plain node import @quantmon/shared (compiled)', () => {
    const env = withoutNodeOptions();
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const s = await import('@quantmon/shared'); console.log(typeof s.publishSamples, s.EMERGENCY_QUEUE);",
      ],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function quantmon-emergency');
  });
});
