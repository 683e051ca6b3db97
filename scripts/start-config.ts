/**
 * `npm start`'s own variables, parsed once at start with the services'
 * helpers (packages/shared config): a bad value stops it with a message
 * naming the variable, what it got and what was expected (exit 78), never a
 * stack trace from deep inside (GATEWAY_PORT=abc used to end in
 * ERR_SOCKET_BAD_PORT from net.listen). The services validate the rest of
 * the environment themselves when they start.
 */
import { z } from 'zod';
import {
  CommonEnv,
  ConfigError,
  int,
  parseEnv,
  type Env,
} from '../packages/shared/src/config/env.js';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './supervisor.js';

const listenPort = z.coerce.number().int().min(1).max(65535);
const redisUrl = z.url({ protocol: /^rediss?$/ });

const StartEnv = z.object({
  GATEWAY_PORT: listenPort.default(8080),
  COLLECTOR_PORT: listenPort.default(8081),
  /** The first scorer's and alerter's ports; default: the next free ones. */
  SCORER_PORT: listenPort.optional(),
  ALERTER_PORT: listenPort.optional(),
  /** Where npm start serves its own /metrics (restarts); default: the next free port. */
  SUPERVISOR_PORT: listenPort.optional(),
  /** npm start's own redis-server (no REDIS_URL): the first port it tries, then the next free ones. */
  OWN_REDIS_PORT: listenPort.default(6390),
  REDIS_URL: redisUrl.optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(redisUrl)),
  /** More unexpected exits of one service than this within the window: npm start gives up. */
  SUPERVISOR_MAX_RESTARTS: int(DEFAULT_RESTART_POLICY.maxRestarts, 0, 1000),
  SUPERVISOR_RESTART_WINDOW_MS: int(DEFAULT_RESTART_POLICY.windowMs, 1000, 86_400_000),
  /** The services' key prefix: where the supervisor records its restarts for the dashboard. */
  QUANTMON_PREFIX: CommonEnv.shape.QUANTMON_PREFIX,
});

export interface StartConfig {
  gatewayPort: number;
  collectorPort: number;
  scorerPort: number | undefined;
  alerterPort: number | undefined;
  supervisorPort: number | undefined;
  ownRedisPort: number;
  redisUrl: string | undefined;
  clusterNodes: string[];
  restartPolicy: RestartPolicy;
  prefix: string;
}

export function loadStartConfig(env: Env): StartConfig {
  const e = parseEnv(StartEnv, env);
  return {
    gatewayPort: e.GATEWAY_PORT,
    collectorPort: e.COLLECTOR_PORT,
    scorerPort: e.SCORER_PORT,
    alerterPort: e.ALERTER_PORT,
    supervisorPort: e.SUPERVISOR_PORT,
    ownRedisPort: e.OWN_REDIS_PORT,
    redisUrl: e.REDIS_URL,
    clusterNodes: e.REDIS_CLUSTER_NODES,
    restartPolicy: {
      ...DEFAULT_RESTART_POLICY,
      maxRestarts: e.SUPERVISOR_MAX_RESTARTS,
      windowMs: e.SUPERVISOR_RESTART_WINDOW_MS,
    },
    prefix: e.QUANTMON_PREFIX,
  };
}

/** loadStartConfig, or the problems on stderr and exit 78 (EX_CONFIG). */
export function startConfigOrExit(env: Env): StartConfig {
  try {
    return loadStartConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`\nquantmon (npm start): ${err.message}\n\n`);
    process.exit(78);
  }
}

/** npm start's flags (after `--`); `--scorers` and `--alerters` take a count. */
const FLAGS = new Set(['--no-demo', '--no-history', '--fresh']);
const COUNTED = ['--scorers', '--alerters'];

/**
 * Arguments npm start does not know: a typo (`--frsh`) would otherwise be
 * ignored and the previous run's state kept without a word.
 */
export function unknownFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (FLAGS.has(a) || COUNTED.some((c) => a.startsWith(`${c}=`))) continue;
    if (COUNTED.includes(a)) {
      i++; // its count (checked where it is read)
      continue;
    }
    out.push(a);
  }
  return out;
}
