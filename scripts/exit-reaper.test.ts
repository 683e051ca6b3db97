import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { spawnModuleSnippet } from '../test/helpers/module-snippet.js';
import { alive } from '../test/helpers/pid-alive.js';

/**
 * A process with a child to reap (as a bench's redis-server is), and with
 * `ownSigint` its own SIGINT handler, which says so and exits 0 a moment
 * later (a bench's cleanup). It prints the child's pid, then idles.
 */
function program(ownSigint: boolean): string {
  return `
import { spawn } from 'node:child_process';
import { killOnExit } from './scripts/exit-reaper.ts';
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
killOnExit(child);
${ownSigint ? "process.on('SIGINT', () => { console.log('own cleanup'); setTimeout(() => process.exit(0), 200); });" : ''}
console.log(child.pid);
setInterval(() => {}, 1000);
`;
}

async function run(ownSigint: boolean, signal: NodeJS.Signals) {
  const { proc: p, first, rest } = await spawnModuleSnippet(program(ownSigint));
  const pid = Number(first);
  try {
    const exited = once(p, 'exit') as Promise<[number | null, string | null]>;
    p.kill(signal);
    const [code, sig] = await exited;
    // SIGKILLed at exit: its death is reported at once, but give it a moment.
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
    return { code, sig, childAlive: alive(pid), out: rest() };
  } finally {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

describe('exit reaper: what a process started goes with it when a signal ends it', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('%s: exits %i, its detached child killed', async (signal, status) => {
    expect(await run(false, signal)).toEqual({
      code: status,
      sig: null,
      childAlive: false,
      out: '',
    });
  });

  it('leaves a signal the process handles itself to its own handler, and still reaps at its exit', async () => {
    expect(await run(true, 'SIGINT')).toEqual({
      code: 0,
      sig: null,
      childAlive: false,
      out: 'own cleanup',
    });
  });
});
