import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { buildDashboard } from '../../services/gateway/src/build-dashboard.js';
import { ROOT } from './services.js';
import { alive } from './pid-alive.js';

/**
 * `npm run build` (or the dashboard bundle alone) at most once per test run,
 * shared by every test file that needs it. Test files run in parallel
 * processes: without this each built on its own (the full build is tens of
 * seconds on a loaded machine), and one file's build deleted the dist/
 * another was running from. A lock directory serialises the builders; a
 * stamp naming the run (the id global-setup.ts provides) tells the others
 * the output is this run's. QUANTMON_BUILT=1 (CI built before the tests)
 * skips the full build.
 */
export type BuildKind = 'all' | 'dashboard';

const DIR = join(ROOT, '.quantmon', 'test-build');
const LOCK = join(DIR, 'lock');
const stamp = (kind: BuildKind): string => join(DIR, `${kind}.done`);
const run = promisify(execFile);

export async function buildOnce(kind: BuildKind, timeoutMs = 240_000): Promise<void> {
  if (kind === 'all' && process.env['QUANTMON_BUILT'] === '1') return;
  const id = inject('testRunId');
  // The full build includes the dashboard.
  const done = (): boolean =>
    read(stamp('all')) === id || (kind === 'dashboard' && read(stamp('dashboard')) === id);
  mkdirSync(DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return;
    if (takeLock()) break;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the ${kind} build`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    if (done()) return;
    if (kind === 'all') await run('npm', ['run', '-s', 'build'], { cwd: ROOT });
    else await buildDashboard();
    writeFileSync(stamp(kind), id);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** mkdir is atomic: whoever creates the lock builds. A lock whose holder died is taken over. */
function takeLock(): boolean {
  try {
    mkdirSync(LOCK);
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch {
    const holder = Number(read(join(LOCK, 'pid')));
    if (holder > 0 && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}
