import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger per process, named after the service; modules take child loggers. */
export function createLogger(service: string, level: string): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}

/**
 * Stop writing `log`'s lines (and those of its parent and children: they
 * share one stream) when standard output has no reader any more: npm
 * start, which read it, is gone (supervisor-watch.ts). Why: pino writes
 * asynchronously and, at exit, writes what is still buffered with
 * sonic-boom's flushSync, which sleeps and retries on every error but
 * EAGAIN, EPIPE included: a service that logged two lines on its way out
 * after its reader died spun at exit for ever (seen: the collector, at
 * 100 % of a core, after npm start was SIGKILLed). pino itself does this
 * (write, flushSync and end made no-ops) once an asynchronous write has
 * failed with EPIPE, but not when the exit comes first.
 */
export function dropLogOutput(log: Logger): void {
  const stream = (log as unknown as Record<symbol, Record<string, unknown> | undefined>)[
    pino.symbols.streamSym
  ];
  if (!stream) return;
  const noop = (): void => undefined;
  stream['write'] = noop;
  stream['flushSync'] = noop;
  stream['end'] = noop;
}
