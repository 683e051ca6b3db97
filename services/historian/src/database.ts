import pg from 'pg';

/**
 * The history database (node-postgres). Chosen by measurement and by
 * failure: postgres.js 3.4.9 measured no faster, and a connection lost
 * mid-write crashed the process from inside the driver (an uncatchable
 * TypeError in its write scheduler: porsager/postgres#1154, #1208), which
 * a historian that must wait out a PostgreSQL outage cannot have. See
 * docs/history.md.
 *
 * bigint (int8) columns come back as JS numbers: they hold epoch ms and
 * stream sequence numbers, well inside 2^53.
 */
export type HistoryDb = pg.Pool;
export type HistoryClient = pg.PoolClient;

const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function connectHistory(url: string, opts: { max?: number; name?: string } = {}): HistoryDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 4,
    application_name: opts.name ?? 'quantmon',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 60_000,
    types: int8AsNumber,
  });
  // An idle connection that drops (PostgreSQL restarted) is discarded by the
  // pool; the next query connects again. Without a listener it would throw.
  pool.on('error', () => undefined);
  return pool;
}

/** A checked-out client, released (destroyed when it broke) whatever happens. */
async function withClient<T>(db: HistoryDb, fn: (c: HistoryClient) => Promise<T>): Promise<T> {
  const c = await db.connect();
  // A checked-out client whose connection dies emits 'error' besides failing its query.
  const onError = (): void => undefined;
  c.on('error', onError);
  let broken: Error | undefined;
  try {
    return await fn(c);
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}

/** BEGIN, fn, COMMIT; ROLLBACK and rethrow on any error. */
export function transaction<T>(db: HistoryDb, fn: (c: HistoryClient) => Promise<T>): Promise<T> {
  return withClient(db, async (c) => {
    await c.query('begin');
    try {
      const result = await fn(c);
      await c.query('commit');
      return result;
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      throw err;
    }
  });
}

/**
 * Rows of a query in pages of `size`, from a server-side cursor (DECLARE /
 * FETCH in a read-only transaction): the whole result is never in memory.
 * Leaving the loop early closes the cursor.
 */
export async function* cursor<R>(
  db: HistoryDb,
  text: string,
  params: unknown[],
  size: number,
): AsyncGenerator<R[]> {
  const c = await db.connect();
  const onError = (): void => undefined;
  c.on('error', onError);
  let broken: Error | undefined;
  try {
    await c.query('begin read only');
    await c.query(`declare qm_cursor no scroll cursor for ${text}`, params);
    for (;;) {
      const page = await c.query(`fetch ${size} from qm_cursor`);
      if (page.rows.length === 0) break;
      yield page.rows as R[];
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    if (!broken) await c.query('rollback').catch((err: Error) => (broken = err));
    c.off('error', onError);
    c.release(broken);
  }
}
