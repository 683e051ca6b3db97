import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transaction, type HistoryDb } from './database.js';

/**
 * Versioned SQL migrations (`migrations/NNN_name.sql`), applied at start in
 * ONE transaction under an advisory lock: several historians starting
 * together apply them once, and a failing migration rolls everything back
 * (no partial schema) with an error naming the file. An applied migration
 * whose file changed since is refused: fix forward with a new file.
 */

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
const MIGRATION_LOCK = 0x71_6d_6d_67; // "qmmg"

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((name) => {
    const m = /^(\d+)_[a-z0-9_]+\.sql$/.exec(name);
    if (!m) throw new MigrationError(`${dir}/${name}: a migration is named NNN_words.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new MigrationError(`${name}: version ${version} used twice`);
    seen.add(version);
    const sql = readFileSync(`${dir}/${name}`, 'utf8');
    return { version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/** Apply what is pending; answers the names applied (empty when the schema was current). */
export async function migrate(db: HistoryDb, migrations = readMigrations()): Promise<string[]> {
  return transaction(db, async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`create table if not exists history_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now())`);
    const applied = new Map(
      (
        await tx.query<{ version: number; name: string; checksum: string }>(
          'select version, name, checksum from history_migrations',
        )
      ).rows.map((r) => [r.version, r]),
    );
    const done: string[] = [];
    for (const m of migrations) {
      const before = applied.get(m.version);
      if (before) {
        if (before.checksum !== m.checksum) {
          throw new MigrationError(
            `migration ${m.name} was applied with other contents (checksum ${before.checksum.slice(0, 12)}, ` +
              `file ${m.checksum.slice(0, 12)}): never edit an applied migration, add a new one`,
          );
        }
        continue;
      }
      try {
        await tx.query(m.sql);
      } catch (err) {
        throw new MigrationError(
          `migration ${m.name} failed, nothing was applied: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await tx.query(
        'insert into history_migrations (version, name, checksum) values ($1, $2, $3)',
        [m.version, m.name, m.checksum],
      );
      done.push(m.name);
    }
    return done;
  });
}
