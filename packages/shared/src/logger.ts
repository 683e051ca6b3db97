import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger per process, named after the service; modules take child loggers. */
export function createLogger(service: string, level: string): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
