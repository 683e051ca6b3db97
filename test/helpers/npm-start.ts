import { spawn, type ChildProcess } from 'node:child_process';
import { eventually, ROOT } from './services.js';

export interface NpmStart {
  proc: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
}

/**
 * `npm start --no-demo --no-history` as an operator runs it: scripts/start.ts
 * in its own process group, as in a terminal (Ctrl-C, SIGINT to the group,
 * reaches every member), with `env` as its whole environment.
 */
export function spawnNpmStart(env: NodeJS.ProcessEnv): NpmStart {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/start.ts', '--no-demo', '--no-history'],
    { cwd: ROOT, detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

/** Until its banner is printed; throws with its output if it exits first. */
export async function waitForBanner(s: NpmStart): Promise<void> {
  await eventually(
    () => {
      if (s.proc.exitCode !== null) throw new Error(`npm start exited:\n${s.output()}`);
      return s.output().includes('quantmon is running') ? true : undefined;
    },
    90_000,
    'the banner',
  );
}

/** The ports an npm start under test takes: each test its own, so runs can sit side by side. */
export interface NpmStartPorts {
  gateway: number;
  collector: number;
  scorer: number;
  alerter: number;
  supervisor: number;
  /** Its own redis-server's port (OWN_REDIS_PORT); default: npm start's (6390 and up). */
  redis?: number;
}

/**
 * The environment of an npm start under test: this process's, with its
 * own prefix and ports, no probes, and no REDIS_URL or Cluster: it runs
 * its own redis-server.
 */
export function npmStartEnv(prefix: string, ports: NpmStartPorts): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QUANTMON_PREFIX: prefix,
    GATEWAY_PORT: String(ports.gateway),
    COLLECTOR_PORT: String(ports.collector),
    SCORER_PORT: String(ports.scorer),
    ALERTER_PORT: String(ports.alerter),
    SUPERVISOR_PORT: String(ports.supervisor),
    // Test files run side by side: each its own Redis port, not npm start's shared 6390 and up.
    ...(ports.redis ? { OWN_REDIS_PORT: String(ports.redis) } : {}),
    PROBES: '[]',
  };
  delete env['REDIS_URL'];
  delete env['REDIS_CLUSTER_NODES'];
  return env;
}
