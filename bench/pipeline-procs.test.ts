import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { alive } from '../test/helpers/pid-alive.js';
import { spawnModuleSnippet } from '../test/helpers/module-snippet.js';

/**
 * A bench as bench:pipeline is laid out: npm start and a driver as
 * children, stopOnExit armed. It prints their pids, then idles until
 * signalled. The children idle too (Node's default: SIGINT ends them).
 */
const BENCH = `
import { spawn } from 'node:child_process';
import { stopOnExit } from './bench/pipeline-procs.ts';
const idle = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
const start = idle();
const driver = idle();
stopOnExit(start, () => [driver]);
console.log(JSON.stringify({ start: start.pid, driver: driver.pid }));
setInterval(() => {}, 1000);
`;

describe('stopOnExit: a bench stopped by a signal stops what it started', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const)('%s: exits %i, and npm start and the drivers are gone', async (signal, status) => {
    const { proc: bench, first } = await spawnModuleSnippet(BENCH);
    const pids = JSON.parse(first) as { start: number; driver: number };
    try {
      expect(alive(pids.start) && alive(pids.driver)).toBe(true);
      const exited = once(bench, 'exit') as Promise<[number | null, string | null]>;
      bench.kill(signal);
      expect(await exited).toEqual([status, null]);
      // The signals to the children are sent; their deaths take a moment.
      for (let i = 0; i < 100 && (alive(pids.start) || alive(pids.driver)); i++) await sleep(50);
      expect({ start: alive(pids.start), driver: alive(pids.driver) }).toEqual({
        start: false,
        driver: false,
      });
    } finally {
      for (const pid of Object.values(pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (bench.exitCode === null) bench.kill('SIGKILL');
    }
  });
});
