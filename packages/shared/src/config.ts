/**
 * Configuration: one zod schema per service over the environment, in
 * config/ (env.ts holds what they share). Every environment variable
 * quantmon reads is named there and only there.
 */
import { ConfigError, type Env } from './config/env.js';

export { ConfigError, type CommonConfig } from './config/env.js';
export { DEFAULT_IDLE_FORGET_AFTER, idleSweepIntervalMs } from './config/idle-forget.js';
export { DEFAULT_STREAM_RETENTION, retentionTrimIntervalMs } from './config/stream-retention.js';
export * from './config/collector.js';
export * from './config/scorer.js';
export * from './config/alerter.js';
export * from './config/gateway.js';

/**
 * Load a config or exit: main.ts calls this so a bad value stops the process
 * with one readable message instead of a stack trace.
 */
export function loadOrExit<C>(service: string, load: (env: Env) => C, env: Env = process.env): C {
  try {
    return load(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${service}: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
}
