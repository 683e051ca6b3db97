import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type LocalPostgres } from '../../scripts/embedded-postgres.js';
import { freePort } from './redis-server.js';

/**
 * A PostgreSQL database for one test file: DATABASE_URL's server when the
 * runner sets it, else an embedded PostgreSQL started for the file on a free
 * port (its data deleted on stop). Either way the file gets a database of
 * its own, dropped at the end.
 */
export interface TestPostgres {
  /** The file's own database. */
  url: string;
  kind: 'external' | 'embedded';
  /** Embedded only: stop and start the server (same port, same data). */
  server?: LocalPostgres;
  dispose(): Promise<void>;
}

const withDatabase = (url: string, db: string): string => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env['DATABASE_URL'];
  let server: LocalPostgres | undefined;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
  } else {
    // Not under mkdtemp (mode 0700): the server runs as the postgres user when we are root.
    const dataDir = join(tmpdir(), `quantmon-pg-${randomBytes(6).toString('hex')}`);
    // Persistent, so a test can stop and start it; the folder is removed at dispose.
    server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    adminUrl = server.url;
  }
  const db = `qm_test_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, `create database ${db}`);
  return {
    url: withDatabase(adminUrl, db),
    kind: server ? 'embedded' : 'external',
    ...(server ? { server } : {}),
    dispose: async () => {
      if (server) {
        await server.stop().catch(() => undefined);
        await rm(server.dataDir, { recursive: true, force: true });
        return;
      }
      await admin(adminUrl, `drop database if exists ${db} with (force)`).catch(() => undefined);
    },
  };
}

async function admin(url: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** The rows of one query (tests' assertions). */
export async function rows<T extends object = Record<string, unknown>>(
  db: pg.Pool,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await db.query(text, params)).rows as T[];
}
