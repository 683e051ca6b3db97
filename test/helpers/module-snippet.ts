import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from './services.js';

export interface Snippet {
  proc: ChildProcess;
  /** The first line it printed (a pid, or JSON of pids, in the tests that use this). */
  first: string;
  /** What it printed after that line, so far, trimmed. */
  rest: () => string;
}

/**
 * Run `code` as an ES module under tsx from the repository root (so
 * `./scripts/x.ts` imports resolve there), stderr inherited, and resolve
 * once it has printed its first line.
 */
export async function spawnModuleSnippet(code: string): Promise<Snippet> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = once(proc, 'exit').then(([code]) => {
    throw new Error(`the snippet exited (${String(code)}) before printing a line: ${out}`);
  });
  exited.catch(() => undefined); // it may lose the race below, and is not waited for then
  while (!out.includes('\n')) await Promise.race([once(proc.stdout!, 'data'), exited]);
  const first = out.slice(0, out.indexOf('\n'));
  return { proc, first, rest: () => out.slice(first.length + 1).trim() };
}
