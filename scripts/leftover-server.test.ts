import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findLeftover, pidFromFile, stopLeftover } from './leftover-server.js';

/** A long-running process working in `cwd`; `ignoreTerm`: it survives SIGTERM. */
function server(cwd: string, ignoreTerm = false): ChildProcess {
  const code = `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1000); process.send('up');`;
  return spawn(process.execPath, ['-e', code], {
    cwd,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
}

const up = (p: ChildProcess): Promise<void> => new Promise((r) => p.once('message', () => r()));
const exited = (p: ChildProcess): boolean => p.exitCode !== null || p.signalCode !== null;

describe('a server an earlier npm start left running', () => {
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  const folder = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'quantmon-leftover-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const p of procs.splice(0)) if (!exited(p)) p.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is found by its pid file when it works in the data folder, and stopped', async () => {
    const dir = folder();
    const p = server(dir);
    procs.push(p);
    await up(p);
    const pidFile = join(dir, 'server.pid');
    writeFileSync(pidFile, `${p.pid}\n`);
    expect(findLeftover(pidFile, dir, 'node')).toEqual({ pid: p.pid, how: 'cwd' });
    const gone = new Promise((r) => p.once('exit', r));
    const opts = { pidFile, dir, name: 'node', signal: 'SIGTERM', timeoutMs: 10_000 } as const;
    expect(await stopLeftover(opts)).toBe(p.pid);
    await gone;
    expect(p.signalCode).toBe('SIGTERM');
  });

  it('is not a live process of the pid file that works elsewhere (a reused pid)', async () => {
    const dir = folder();
    const p = server(folder());
    procs.push(p);
    await up(p);
    const pidFile = join(dir, 'server.pid');
    writeFileSync(pidFile, String(p.pid));
    expect(findLeftover(pidFile, dir, 'node')).toBeUndefined();
    const opts = { pidFile, dir, name: 'node', signal: 'SIGTERM', timeoutMs: 1000 } as const;
    expect(await stopLeftover(opts)).toBeUndefined();
    expect(exited(p)).toBe(false);
  });

  it('is nothing when the pid file is missing, stale or not a pid', async () => {
    const dir = folder();
    const pidFile = join(dir, 'server.pid');
    expect(pidFromFile(pidFile)).toBeUndefined();
    const p = server(dir);
    await up(p);
    const pid = p.pid!;
    await new Promise((r) => {
      p.once('exit', r);
      p.kill('SIGKILL');
    });
    writeFileSync(pidFile, `${pid}\n`);
    expect(pidFromFile(pidFile)).toBe(pid);
    expect(findLeftover(pidFile, dir, 'node')).toBeUndefined();
    writeFileSync(pidFile, 'not a pid\n');
    expect(pidFromFile(pidFile)).toBeUndefined();
  });

  it('is left alone, with an error naming it, while its owner still runs', async () => {
    const dir = folder();
    // The owner: a process whose command line carries the marker, parent of the server.
    const code = `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: ${JSON.stringify(dir)}, stdio: 'ignore' }); process.send(c.pid); setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ['-e', code, 'the-owner-marker'], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    procs.push(owner);
    const serverPid = await new Promise<number>((r) => owner.once('message', (m) => r(Number(m))));
    const pidFile = join(dir, 'server.pid');
    writeFileSync(pidFile, String(serverPid));
    const opts = { pidFile, dir, name: 'node', signal: 'SIGTERM', timeoutMs: 1000 } as const;
    try {
      await expect(stopLeftover({ ...opts, owner: 'the-owner-marker' })).rejects.toThrow(
        `node (pid ${serverPid}) on ${dir} belongs to a running the-owner-marker (pid ${owner.pid})`,
      );
      expect(findLeftover(pidFile, dir, 'node')).toEqual({ pid: serverPid, how: 'cwd' });
      // Its owner gone (the server reparented), it is a leftover like any other.
      owner.kill('SIGKILL');
      await new Promise((r) => owner.once('exit', r));
      expect(await stopLeftover({ ...opts, owner: 'the-owner-marker' })).toBe(serverPid);
    } finally {
      try {
        process.kill(serverPid, 'SIGKILL');
      } catch {
        // stopped above
      }
    }
  });

  it('is named in an error when it outlives its signal', async () => {
    const dir = folder();
    const p = server(dir, true);
    procs.push(p);
    await up(p);
    const pidFile = join(dir, 'server.pid');
    writeFileSync(pidFile, String(p.pid));
    const opts = { pidFile, dir, name: 'node', signal: 'SIGTERM', timeoutMs: 300 } as const;
    await expect(stopLeftover(opts)).rejects.toThrow(
      new RegExp(
        `node \\(pid ${p.pid}\\), left running on .* did not stop within 0.3 s of SIGTERM`,
      ),
    );
    expect(exited(p)).toBe(false);
  });
});
