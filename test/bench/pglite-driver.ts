/**
 * @module test/bench/pglite-driver: a SqlDriver over PGlite (PostgreSQL compiled to WASM,
 * in-process), for test/bench/stores.ts only. It is the reference point that justifies SQLite
 * as the embedded store; it is not shipped. PGlite speaks the PostgreSQL dialect, so the SQL
 * store's PostgreSQL SQL runs on it unchanged.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { ActionStore } from '../../src/index.ts';
import { numberedPlaceholders } from '../../src/store/postgres.ts';
import { type SqlDriver, type SqlResult, type SqlStatement, sqlStore } from '../../src/store/sql.ts';

export function pgliteDriver(db: PGlite): SqlDriver {
  const text = numberedPlaceholders();
  const run = async (q: PGlite | Transaction, s: SqlStatement): Promise<SqlResult> => {
    const result = await q.query<Record<string, unknown>>(text(s.sql), s.params as unknown[]);
    return { changes: result.affectedRows ?? 0, rows: result.rows };
  };
  return {
    dialect: 'postgres',
    execute: (s) => run(db, s),
    batch: (statements) =>
      db.transaction(async (tx) => {
        const results: SqlResult[] = [];
        for (const s of statements) results.push(await run(tx, s));
        return results;
      }),
    async close() {
      await db.close();
    },
  };
}

/** The SQL store on an open PGlite database, migrated. */
export async function pgliteStore(db: PGlite): Promise<ActionStore> {
  const store = sqlStore(pgliteDriver(db));
  await store.migrate();
  return store;
}
