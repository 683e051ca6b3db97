import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive } from '../test/helpers/pid-alive.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

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
  const p = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', program(ownSigint)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  while (!out.includes('\n')) await once(p.stdout!, 'data');
  const pid = Number(out.split('\n')[0]);
  try {
    const exited = once(p, 'exit') as Promise<[number | null, string | null]>;
    p.kill(signal);
    const [code, sig] = await exited;
    // SIGKILLed at exit: its death is reported at once, but give it a moment.
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
    return { code, sig, childAlive: alive(pid), out: out.split('\n').slice(1).join('\n').trim() };
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
