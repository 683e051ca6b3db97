import type { Logger } from './logger.js';

/**
 * Route what would otherwise kill the process with a bare stack trace on
 * stderr (a rejected top-level await at start-up, such as a port in use; an
 * exception or rejection nobody handled later) through the service's pino
 * logger, at level fatal with the stack, then exit 1 so a supervisor
 * (npm start, Docker's restart policy) restarts it. Install right after the
 * logger is created. The process state is unknown after such an error: no
 * graceful shutdown is attempted (pino's default destination writes
 * synchronously, so the line is out before the exit).
 */
export function exitOnFatal(log: Logger): void {
  const die =
    (what: string) =>
    (err: unknown): void => {
      try {
        log.fatal({ err }, `${what}: exiting`);
      } finally {
        process.exit(1);
      }
    };
  process.on('uncaughtException', die('fatal error'));
  process.on('unhandledRejection', die('unhandled promise rejection'));
}
