import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, ROOT } from '../helpers/services.js';
import { running } from '../helpers/pid-alive.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'supervised-service.ts');

/**
 * The supervisor: starts the fixture with its own pid as QUANTMON_SUPERVISOR_PID
 * and the fixture's output piped to itself (as npm start reads its
 * services'), and prints the fixture's pid once it is up.
 */
const SUPERVISOR = `
const { spawn } = require('node:child_process');
const c = spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(FIXTURE)}], {
  cwd: ${JSON.stringify(ROOT)},
  env: { ...process.env, QUANTMON_SUPERVISOR_PID: String(process.pid) },
  stdio: ['ignore', 'pipe', 'ignore'],
});
c.stdout.on('data', (d) => {
  if (String(d).includes('"msg":"up"')) process.stdout.write('fixture ' + c.pid + '\\n');
});
setInterval(() => {}, 1000);
`;

/**
 * A service whose supervisor is SIGKILLed stops by itself, and exits even
 * though its standard output has no reader left and it logs on its way out
 * (pino's exit-time flush retried the broken pipe for ever: the collector
 * spun at 100 % of a core after npm start was killed).
 */
describe('a supervised service whose supervisor is killed', () => {
  const pids: number[] = [];
  afterAll(() => {
    for (const pid of pids.filter(running)) process.kill(pid, 'SIGKILL');
  });

  it('stops, logging on its way out to no reader, and exits', async () => {
    const supervisor = spawn(process.execPath, ['-e', SUPERVISOR], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    pids.push(supervisor.pid!);
    let out = '';
    supervisor.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const fixture = await eventually(
      () => {
        const m = /fixture (\d+)/.exec(out);
        return m ? Number(m[1]) : undefined;
      },
      60_000,
      'the fixture up',
    );
    pids.push(fixture);
    supervisor.kill('SIGKILL');
    await eventually(
      () => (running(fixture) ? undefined : true),
      20_000,
      () => `the fixture (pid ${fixture}) gone after its supervisor was killed`,
    );
    expect(running(fixture)).toBe(false);
  });
});
