import postgres, { type Sql } from 'postgres';

/**
 * The history database connection (postgres.js: chosen by measurement, see
 * docs/history.md and bench/historian.ts). Notices are dropped (CREATE ...
 * IF NOT EXISTS talks); values come back as JS numbers for bigint columns,
 * which hold epoch ms and sequence numbers, all well inside 2^53.
 */
export function connectHistory(url: string, opts: { max?: number; name?: string } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 4,
    onnotice: () => undefined,
    connection: { application_name: opts.name ?? 'quantmon' },
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint) => String(x),
        parse: (x: string) => Number(x),
      },
    },
    idle_timeout: 60,
    connect_timeout: 10,
  });
}
