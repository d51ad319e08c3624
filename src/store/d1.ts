/**
 * @module store/d1: actions in Cloudflare D1 (SQLite at the edge), for providers on Workers.
 * Same schema and queries as the embedded SQLite store.
 */
import { d1Unavailable } from './failures.ts';
import { opened, type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions, sqlStore } from './sql.ts';

export { schemaSql } from './sql.ts';

import type { ActionStore } from './types.ts';

/** The part of a D1 binding the store uses. */
export interface D1Like {
  prepare(sql: string): D1StatementLike;
  batch(statements: D1StatementLike[]): Promise<{ results?: unknown[]; meta: { changes?: number } }[]>;
}
export interface D1StatementLike {
  bind(...values: unknown[]): D1StatementLike;
  all(): Promise<{ results?: unknown[]; meta: { changes?: number } }>;
}

const toResult = (r: { results?: unknown[]; meta: { changes?: number } }): SqlResult => ({
  changes: r.meta?.changes ?? 0,
  rows: (r.results ?? []) as Record<string, unknown>[],
});

export function d1Driver(db: D1Like): SqlDriver {
  const bound = ({ sql, params }: SqlStatement) => db.prepare(sql).bind(...params);
  return {
    dialect: 'sqlite',
    unavailable: d1Unavailable,
    async execute(s) {
      return toResult(await bound(s).all());
    },
    async batch(statements) {
      // D1 runs a batch as one transaction.
      return (await db.batch(statements.map(bound))).map(toResult);
    },
  };
}

/**
 * @example
 * ```ts
 * export default worker(async (env) => echoProvider({ auth, store: await d1Store(env.DB) }))
 * ```
 */
export async function d1Store(db: D1Like, options: SqlStoreOptions = {}): Promise<ActionStore> {
  if (typeof db?.prepare !== 'function' || typeof db.batch !== 'function')
    throw new TypeError('d1Store: expected a D1 database binding');
  return opened(sqlStore(d1Driver(db), options), options);
}
