import { setMaxListeners } from 'node:events';
import { dropLogOutput, type Logger } from './logger.js';
import { watchSupervisor } from './supervisor-watch.js';

type Closer = () => Promise<void> | void;

/**
 * Components register their close in start-up order; on SIGTERM/SIGINT they
 * close in reverse order, each step guarded so one failure does not skip the
 * rest, under a hard deadline after which the process exits anyway.
 */
export class Shutdown {
  private readonly steps: { name: string; close: Closer }[] = [];
  private closing: Promise<void> | undefined;
  readonly controller = new AbortController();

  constructor(
    private readonly log: Logger,
    private readonly deadlineMs: number,
  ) {
    // Every partition term and every sleeping loop listens to this signal at
    // once (P terms of 8+ on one replica): Node's default of 10 would warn
    // about a leak that is not one. Listeners are removed when they end.
    setMaxListeners(1_000, this.controller.signal);
  }

  /** Aborted when shutdown begins: loops watch it to stop reading. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  register(name: string, close: Closer): void {
    this.steps.push({ name, close });
  }

  /**
   * Install signal handlers; the process exits once everything is closed.
   * With `supervisorPid` (QUANTMON_SUPERVISOR_PID), it also closes when that
   * parent is gone (supervisor-watch.ts).
   */
  installSignalHandlers(opts: { supervisorPid?: number | undefined } = {}): void {
    const onSignal = (signal: string): void => {
      // Ctrl-C under `npm start` brings SIGINT from the terminal and SIGTERM from the runner.
      if (this.closing) return;
      this.log.info({ signal }, 'shutting down');
      void this.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const pid = opts.supervisorPid;
    if (pid !== undefined) {
      watchSupervisor(pid, () => {
        // Said to no one (its reader, our standard output's, is gone), then
        // nothing more written: see dropLogOutput.
        this.log.warn({ supervisorPid: pid }, 'the process that started this one is gone');
        dropLogOutput(this.log);
        onSignal('supervisor gone');
      });
    }
  }

  /** Idempotent: a second call returns the same promise. */
  close(): Promise<void> {
    this.closing ??= this.run();
    return this.closing;
  }

  private async run(): Promise<void> {
    this.controller.abort();
    const deadline = setTimeout(() => {
      this.log.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed, exiting');
      process.exit(1);
    }, this.deadlineMs);
    deadline.unref();
    for (const step of [...this.steps].reverse()) {
      try {
        await step.close();
      } catch (err) {
        this.log.warn({ step: step.name, err }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
  }
}
