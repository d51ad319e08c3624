/**
 * @module store/sql: one ActionStore over SQL, shared by every SQL backend: SQLite (embedded:
 * better-sqlite3, bun:sqlite, node:sqlite), Cloudflare D1 (SQLite too) and PostgreSQL. A
 * driver only runs statements; the schema (sql-schema.ts) and the statements (sql-queries.ts)
 * are written once, and so is turning an unavailable database into a 503.
 */

import type { ActionStatusValue } from '../model.ts';
import { type SqlWorkTables, sqlWorkEngine } from '../work/sql.ts';
import { type EngineFactory, WORK_ENGINE } from '../work/types.ts';
import { isUnavailable, storeUnavailable } from './failures.ts';
import { type SqlDriver, stmt } from './sql-driver.ts';
import { decodeKey, decodeRecord as toRecord } from './sql-encoding.ts';
import { sqlQueries } from './sql-queries.ts';
import { migrate, migrated } from './sql-schema.ts';
import type { ActionPage, ActionStore, CreateResult } from './types.ts';

export type { SqlDialect, SqlDriver, SqlResult, SqlStatement } from './sql-driver.ts';
export { schemaSql } from './sql-schema.ts';

export interface SqlStoreOptions {
  /** Prefix of the table names. Default `gap_`. */
  tablePrefix?: string;
  /**
   * The `Retry-After` (seconds) of the 503 answered while the database is unavailable
   * (unreachable, not answering in time, full, read-only). Default 5.
   */
  retryAfter?: number;
  /**
   * Create or upgrade the tables when the store opens. Default true; false for a database user
   * that may not run DDL, or to spare the check at every start (a Worker's isolate): the tables
   * must then exist, made from `schemaSql()`.
   */
  migrate?: boolean;
}

/** Migrate `store` unless `options.migrate` is false (checked by `sqlStore`); resolves to it. */
export async function opened<S extends { migrate(): Promise<number> }>(store: S, options: SqlStoreOptions): Promise<S> {
  if (options.migrate !== false) await store.migrate();
  return store;
}

/** `driver` whose unavailable-database errors are 503 ActionErrors (the cause kept, for the log). */
function guarded(driver: SqlDriver, retryAfter: number): SqlDriver {
  const fail = (error: unknown): never => {
    throw isUnavailable(error, driver.unavailable) ? storeUnavailable(error, retryAfter) : error;
  };
  return {
    dialect: driver.dialect,
    execute: (statement) => driver.execute(statement).catch(fail),
    batch: (statements, options) => driver.batch(statements, options).catch(fail),
  };
}

/**
 * The engine of a PostgreSQL driver given no other: a TypeError when a provider with `work` is
 * created. The lease table suits SQLite, whose one writer serves one instance per file; its claim
 * is no SKIP LOCKED, so instances sharing PostgreSQL would contend for it (postgresStore brings
 * pg-boss instead).
 */
const noLeaseTable = (): EngineFactory => () => {
  throw new TypeError(
    'work: this PostgreSQL store has no engine for background work: use postgresStore (its engine is pg-boss), ' +
      'or pass worker.engine (pgBossEngine from globus-action-provider/postgres)',
  );
};

/**
 * An ActionStore over any SqlDriver. Call `migrate()` (the `*Store()` factories do) before use.
 * Its background work runs on the lease-table engine (work/sql.ts), or on the one `engine` makes
 * over the same tables (D1's: a Durable Object per action; PostgreSQL's: pg-boss). On SQLite the
 * lease table is the default; a PostgreSQL driver has none (see noLeaseTable).
 *
 * @example
 * ```ts
 * const store = sqlStore(myDriver, { tablePrefix: 'echo_' })
 * await store.migrate()
 * ```
 */
export function sqlStore(
  driver: SqlDriver,
  options: SqlStoreOptions = {},
  engine: (tables: SqlWorkTables) => EngineFactory = driver.dialect === 'postgres' ? noLeaseTable : sqlWorkEngine,
): ActionStore & { migrate(): Promise<number>; readonly [WORK_ENGINE]: EngineFactory } {
  const p = options.tablePrefix ?? 'gap_';
  if (!/^[a-z_][a-z0-9_]*$/i.test(p)) throw new TypeError('tablePrefix: letters, digits and underscores only');
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean')
    throw new TypeError('migrate: must be a boolean');
  const retryAfter = options.retryAfter ?? 5;
  if (!Number.isSafeInteger(retryAfter) || retryAfter < 1 || retryAfter > 86_400) {
    throw new TypeError('retryAfter: must be a whole number of seconds from 1 to 86400');
  }
  const db = guarded(driver, retryAfter);
  const q = sqlQueries(driver.dialect, p);
  return {
    [WORK_ENGINE]: engine({ driver: db, prefix: p, update: q.update }),
    migrate: () => migrate(db, p),
    async create(record): Promise<CreateResult> {
      // A new placeholder need not be synced (see SqlDriver.batch); an existing action this
      // returns was stored by a durable write (an answer) or is a placeholder itself, which
      // run never hands to a client.
      const results = await db.batch(q.create(record), { durable: false });
      const row = results.at(-1)?.rows[0];
      if (row === undefined) throw new Error(`action_id ${record.action_id} collided with another action`);
      const stored = toRecord(row['record']);
      // More than one change on D1, whose count includes what triggers changed (sql-schema.ts).
      const created = stored.action_id === record.action_id && (results[0]?.changes ?? 0) > 0;
      return { created, record: stored } as CreateResult;
    },
    async get(actionId) {
      const { rows } = await db.execute(q.get(actionId));
      return rows[0] === undefined ? undefined : toRecord(rows[0]['record']);
    },
    async update(record) {
      const { changes } = await db.execute(q.update(record));
      // At most one row matches; D1 counts the principals rows a status change copies to as well.
      return changes > 0 ? record : undefined;
    },
    async delete(actionId) {
      const results = await db.batch(q.delete(actionId));
      return (results[1]?.changes ?? 0) > 0;
    },
    async list(query): Promise<ActionPage> {
      const statement = q.list(query);
      if (statement === undefined) return { actions: [] };
      const { rows } = await db.execute(statement);
      const page = rows.slice(0, query.limit);
      // An action past its expiry is left out here, though its place counts: a page of expired
      // actions costs a page of reading, not a search through them for live ones.
      const live = (row: Record<string, unknown>) => row['expires_at'] == null || Number(row['expires_at']) > query.now;
      const actions = page.filter(live).map((row) => toRecord(row['record']));
      const last = page.at(-1);
      return rows.length > query.limit && last !== undefined
        ? { actions, cursor: `${String(last['start_time'])} ${decodeKey(String(last['action_id']))}` }
        : { actions };
    },
    async count(now) {
      const { rows } = await db.execute(q.count(now));
      const counts: Partial<Record<ActionStatusValue, number>> = {};
      for (const row of rows) counts[String(row['status']) as ActionStatusValue] = Number(row['n']);
      return counts;
    },
    async deleteExpired(now) {
      const results = await db.batch(q.deleteExpired(now));
      return results[1]?.changes ?? 0;
    },
    async close() {
      await driver.close?.();
    },
    async health() {
      await db.execute(stmt('SELECT 1 AS ok')); // reachable, whatever the schema
      return { migrations: await migrated(db, p) };
    },
  };
}
