import { execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import type { PipelineHealth } from '../../services/gateway/src/pipeline-health.js';
import { eventually, ROOT } from '../helpers/services.js';
import { childrenOf } from '../helpers/child-processes.js';
import { type NpmStart, npmStartEnv, spawnNpmStart, waitForBanner } from '../helpers/npm-start.js';
import { alive } from '../helpers/pid-alive.js';

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  } catch {
    return false;
  }
}

/**
 * `npm start` as an operator runs it (scripts/start.ts, its own process
 * group as in a terminal): a SIGKILLed scorer is restarted by the
 * supervisor, counted on its /metrics and shown on the gateway's
 * GET /api/pipeline (the dashboard's pipeline view), no sample is lost across the
 * crash, and Ctrl-C (SIGINT to the group) stops everything, leaving no
 * process behind. Also: a bad variable is a message, not a stack trace.
 */
describe('npm start supervision', () => {
  let redis: TestRedis;
  let start: ChildProcess | undefined;
  let npm: NpmStart | undefined;
  const out = (): string => npm?.output() ?? '';
  const ports = { gateway: 0, collector: 0, scorer: 0, alerter: 0, supervisor: 0 };

  beforeAll(async () => {
    redis = await startTestRedis();
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  });

  afterAll(async () => {
    if (start?.pid && start.exitCode === null) {
      try {
        process.kill(-start.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await redis?.dispose();
  });

  it('refuses a bad port with a message naming the variable', () => {
    let stderr = '';
    let status: number | null = 0;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--no-demo'], {
        cwd: ROOT,
        env: { ...process.env, GATEWAY_PORT: 'abc' },
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      const e = err as { status: number | null; stderr: string };
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).toBe(78);
    expect(stderr).toMatch(/GATEWAY_PORT: .*\(got "abc"\)/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('restarts a SIGKILLed scorer, loses no sample, and Ctrl-C leaves no process', async () => {
    const prefix = uniquePrefix('start');
    // --no-history: no PostgreSQL for this test (an unknown flag is ignored by older starts).
    npm = spawnNpmStart({
      ...npmStartEnv(prefix, ports),
      REDIS_URL: redis.url,
      BULLMQ_PREFIX: `${prefix}-bull`,
    });
    start = npm.proc;
    await waitForBanner(npm);
    expect(out()).toContain(`restarts:   http://127.0.0.1:${ports.supervisor}/metrics`);
    const seen = new Set(childrenOf(start.pid!).map((c) => c.pid));

    const post = async (from: number, n: number): Promise<void> => {
      const now = Date.now();
      const samples = Array.from({ length: n }, (_, i) => ({
        strategy: 'supervised',
        ts: now - 1000 + i,
        return: 0.001 * (from + i),
        id: `supervised-${from + i}`,
      }));
      const res = await fetch(`http://127.0.0.1:${ports.collector}/v1/samples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(samples),
      });
      expect(res.status).toBe(202);
    };
    await post(0, 5);

    const scorer = childrenOf(start.pid!).find((c) => c.args.includes('services/scorer/'));
    expect(scorer, `a scorer child of npm start:\n${out()}`).toBeDefined();
    const killedAt = Date.now();
    process.kill(scorer!.pid, 'SIGKILL');
    await eventually(() => (alive(scorer!.pid) ? undefined : true), 10_000, 'the scorer gone');
    await post(5, 5); // while no scorer runs: they wait in the stream
    const replacement = await eventually(
      async () => {
        const c = childrenOf(start!.pid!).find((x) => x.args.includes('services/scorer/'));
        return c && c.pid !== scorer!.pid && (await healthy(ports.scorer)) ? c : undefined;
      },
      60_000,
      `a new healthy scorer; npm start said:\n${out()}`,
    );
    seen.add(replacement.pid);
    // Measured for the report (the issue asks for healing within 5 s); no timing assertion here.
    process.stdout.write(`scorer healed ${Date.now() - killedAt} ms after SIGKILL\n`);
    expect(out()).toMatch(/scorer killed by SIGKILL; restarting it in \d+ ms \(restart 1,/);

    const metrics = await (await fetch(`http://127.0.0.1:${ports.supervisor}/metrics`)).text();
    expect(metrics).toMatch(
      /quantmon_supervisor_restarts_total\{child="scorer",service="supervisor"\} 1/,
    );

    // The dashboard's pipeline view shows it: GET /api/pipeline carries the supervisor's record.
    const pipeline = await eventually(
      async () => {
        const h = (await (
          await fetch(`http://127.0.0.1:${ports.gateway}/api/pipeline`)
        ).json()) as PipelineHealth;
        const s = h.services.find((v) => v.service === 'scorer');
        return s && s.restarts > 0 ? h : undefined;
      },
      30_000,
      'the scorer restart on GET /api/pipeline',
    );
    const scorerView = pipeline.services.find((v) => v.service === 'scorer')!;
    expect(scorerView.restarts).toBe(1);
    expect(scorerView.lastRestart).toMatchObject({
      child: 'scorer',
      exit: 'killed by SIGKILL',
      restarts: 1,
    });
    expect(scorerView.lastRestart!.at).toBeGreaterThanOrEqual(killedAt);
    expect(pipeline.services.find((v) => v.service === 'gateway')?.restarts).toBe(0);

    // Nothing lost: all ten samples scored, in one window.
    await eventually(
      async () => {
        const summary = (await (
          await fetch(`http://127.0.0.1:${ports.gateway}/api/summary`)
        ).json()) as { strategies: { strategy: string; count: number }[] };
        return summary.strategies.find((s) => s.strategy === 'supervised')?.count === 10
          ? true
          : undefined;
      },
      60_000,
      'ten samples in the supervised window',
    );

    // Ctrl-C: SIGINT to the whole process group.
    for (const c of childrenOf(start.pid!)) seen.add(c.pid);
    const exited = new Promise<number | null>((r) => start!.once('exit', (code) => r(code)));
    process.kill(-start.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    await eventually(
      () => ([...seen].some(alive) ? undefined : true),
      20_000,
      `every child of npm start gone (${[...seen].filter(alive).join(', ')})`,
    );
  }, 240_000);
});
