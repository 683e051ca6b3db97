import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LocalRedis } from './local-redis.js';
import { describeExit, type RestartDecision } from './supervisor.js';

/** What `npm start` lends the supervision of its own redis-server. */
export interface OwnRedisHooks {
  /** A line of npm start's own. */
  say(msg: string): void;
  /** One of redis-server's own log lines. */
  log(line: string): void;
  /** True once npm start is stopping: an exit then is expected. */
  stopping(): boolean;
  /** The supervisor's decision on an unexpected exit (its restart policy). */
  exited(how: string, startedAt: number): RestartDecision;
  /** The process to stop on Ctrl-C is now `proc` (in place of `previous`). */
  running(proc: ChildProcess, previous?: ChildProcess): void;
  /** It was started again after ending `how` (for the restart log). */
  restarted(ended: { code: number | null; signal: string | null; how: string; at: number }): void;
  /** Too many exits, or it would not start again: stop the pipeline. */
  giveUp(): void;
}

/**
 * Supervise npm start's own redis-server as it does the services: an
 * unexpected exit (`kill -9`, the OOM killer) starts it again on the same
 * port with the same data after the supervisor's backoff, and the services
 * reconnect and resume from their committed positions (they already
 * survive a Redis restart under docker compose). Nothing acknowledged is
 * lost to a process kill: Redis writes the AOF before it replies, and the
 * file survives in the page cache; fsync every second guards against the
 * machine going down.
 *
 * Its output is read and printed line by line. A pipe nobody reads fills
 * at 64 KB, and then redis-server blocks on its next log line with every
 * client waiting: measured, a few hundred logged connections at loglevel
 * verbose froze it; at notice level each AOF rewrite logs ~1 KB, so a
 * long-running npm start would have frozen after ~100 rewrites.
 */
export function superviseRedis(redis: LocalRedis, hooks: OwnRedisHooks): void {
  const watch = (previous?: ChildProcess): void => {
    const proc = redis.proc();
    for (const stream of [proc.stdout, proc.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', hooks.log);
    }
    hooks.running(proc, previous);
    const startedAt = Date.now();
    proc.once('exit', (code, signal) => {
      if (hooks.stopping()) return;
      const how = describeExit(code, signal);
      const decision = hooks.exited(how, startedAt);
      hooks.say(`redis-server: ${decision.message}`);
      if (decision.action === 'give-up') return hooks.giveUp();
      const ended = { code, signal, how, at: Date.now() };
      setTimeout(() => {
        if (hooks.stopping()) return;
        redis.start().then(
          () => {
            watch(proc);
            // npm start began to stop while it started: stop it too (it is
            // listed now, but stop() may already be past Redis).
            if (hooks.stopping()) return void redis.stop();
            hooks.say(`redis-server is back on ${redis.url} (data in ${redis.dir})`);
            hooks.restarted(ended);
          },
          (err: unknown) => {
            hooks.running(redis.proc(), proc); // still loading, perhaps: stopped with the rest
            hooks.say(`redis-server did not start again: ${(err as Error).message}`);
            hooks.giveUp();
          },
        );
      }, decision.delayMs);
    });
  };
  watch();
}
