/**
 * @module store/postgres: actions in PostgreSQL, shared by many provider instances. The unique
 * (creator_id, request_id) constraint makes idempotent run atomic across instances; versioned,
 * lock-protected migrations create the schema. Uses the `postgres` client (install it:
 * `npm install postgres`), imported only when this store is used.
 */
import { type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions, sqlStore } from './sql.ts';
import type { ActionStore } from './types.ts';

/** The part of a `postgres` client (porsager/postgres) the store uses. */
export interface PostgresClient {
  unsafe(
    query: string,
    params?: unknown[],
    options?: { prepare?: boolean },
  ): Promise<Record<string, unknown>[] & { count: number }>;
  begin<T>(fn: (sql: PostgresClient) => Promise<T>): Promise<T>;
  end(options?: { timeout?: number }): Promise<void>;
}

export interface PostgresStoreOptions extends SqlStoreOptions {
  /** A connection string (`postgres://user:pass@host:5432/db`), or give `sql`. */
  url?: string;
  /** An existing `postgres` client; the store will not close it. */
  sql?: PostgresClient;
  /** Connections in the pool when the store makes its own client. Default 10. */
  max?: number;
}

/** A computed specifier, so bundlers leave the optional client alone. */
const moduleName = (name: string): string => name;

/**
 * `?` placeholders as `$1, $2, ...` (the store's SQL never has `?` inside a string literal),
 * memoised per statement text.
 */
export function numberedPlaceholders(): (sql: string) => string {
  const cache = new Map<string, string>();
  return (sql) => {
    let found = cache.get(sql);
    if (found === undefined) {
      let n = 0;
      found = sql.replace(/\?/g, () => `$${++n}`);
      cache.set(sql, found);
    }
    return found;
  };
}

export function postgresDriver(client: PostgresClient, closeClient: boolean): SqlDriver {
  const text = numberedPlaceholders();
  const run = async (sql: PostgresClient, s: SqlStatement): Promise<SqlResult> => {
    const rows = await sql.unsafe(text(s.sql), s.params as unknown[], { prepare: true });
    return { changes: rows.count ?? 0, rows: [...rows] };
  };
  return {
    dialect: 'postgres',
    execute: (s) => run(client, s),
    batch: (statements) =>
      client.begin(async (tx) => {
        const results: SqlResult[] = [];
        for (const s of statements) results.push(await run(tx, s));
        return results;
      }),
    async close() {
      if (closeClient) await client.end({ timeout: 5 });
    },
  };
}

/**
 * @example
 * ```ts
 * const store = await postgresStore({ url: process.env.DATABASE_URL })
 * ```
 */
export async function postgresStore(options: PostgresStoreOptions): Promise<ActionStore> {
  if ((options.url === undefined) === (options.sql === undefined))
    throw new TypeError('postgresStore: give exactly one of url or sql');
  let client = options.sql;
  if (client === undefined) {
    let postgres: (url: string, options: Record<string, unknown>) => PostgresClient;
    try {
      postgres = ((await import(moduleName('postgres'))) as { default: typeof postgres }).default;
    } catch (cause) {
      throw new Error('postgresStore: install the postgres client (npm install postgres)', { cause });
    }
    client = postgres(options.url as string, { max: options.max ?? 10, onnotice: () => {} });
  }
  const store = sqlStore(postgresDriver(client, options.sql === undefined), options);
  await store.migrate();
  return store;
}
