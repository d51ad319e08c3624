/**
 * @module store/postgres: actions in PostgreSQL, shared by many provider instances. The unique
 * (creator_id, request_id) constraint makes idempotent run atomic across instances; versioned,
 * lock-protected migrations create the schema. Uses the `postgres` client (install it:
 * `npm install postgres`), imported only when this store is used.
 */
import { withDeadline } from './deadline.ts';
import { postgresConnectionLost, postgresUnavailable, StoreTimeoutError } from './failures.ts';
import { opened, type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions, sqlStore } from './sql.ts';

export { schemaSql } from './sql.ts';

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
  /**
   * Connections in the pool when the store makes its own client; with `sql`, how many calls
   * the store makes at once. Default 10.
   */
  max?: number;
  /** Milliseconds to open a connection (client's own only). Default 5,000. */
  connectTimeout?: number;
  /**
   * Milliseconds any one store call (a statement, or a transaction) may take, waiting for a free
   * connection included; past it the request is answered 503. Also set on the server as
   * `statement_timeout` and `idle_in_transaction_session_timeout` (client's own only: with `sql`,
   * set those on your client). Default 5,000.
   */
  statementTimeout?: number;
}

export interface PostgresDriverOptions {
  /** Close the client with the store. Default false. */
  closeClient: boolean;
  /** Calls inside the client at once (its pool size). Default 10. */
  concurrency: number;
  /** Milliseconds a call may take. Default 5,000. */
  timeout: number;
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

/** A SqlDriver over a `postgres` client, every call bounded (see store/deadline.ts). */
export function postgresDriver(client: PostgresClient, options: Partial<PostgresDriverOptions> = {}): SqlDriver {
  const { closeClient = false, concurrency = 10, timeout = 5_000 } = options;
  const text = numberedPlaceholders();
  const bounded = withDeadline({ concurrency, timeout, what: 'PostgreSQL' });
  const run = async (sql: PostgresClient, s: SqlStatement): Promise<SqlResult> => {
    const rows = await sql.unsafe(text(s.sql), s.params as unknown[], { prepare: true });
    return { changes: rows.count ?? 0, rows: [...rows] };
  };
  const runAll = async (tx: PostgresClient, statements: readonly SqlStatement[], abandoned: () => boolean) => {
    // Past the deadline the caller has been answered 503: roll back, never commit what nobody
    // was told about.
    if (abandoned()) throw new StoreTimeoutError('transaction abandoned after its deadline');
    // Sent together, pipelined on the transaction's connection: one round trip for all of
    // them instead of one each. The server still runs them in order, and after a failure the
    // rest fail too ("current transaction is aborted"): the first failure is the cause.
    const settled = await Promise.allSettled(statements.map((s) => run(tx, s)));
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    if (abandoned()) throw new StoreTimeoutError('transaction abandoned after its deadline');
    return settled.map((outcome) => (outcome as PromiseFulfilledResult<SqlResult>).value);
  };
  return {
    dialect: 'postgres',
    unavailable: postgresUnavailable,
    execute: (s) => bounded(() => run(client, s)),
    batch: (statements) => bounded((abandoned) => transaction(client, (tx) => runAll(tx, statements, abandoned))),
    async close() {
      if (closeClient) await client.end({ timeout: 5 });
    },
  };
}

/** How long a transaction whose connection failed waits for the client to notice the close. */
const CLOSE_NOTICE_MS = 1_000;

/**
 * `client.begin(work)`, except that a transaction whose connection is lost never lets the
 * client roll back on it: `postgres` 3.4.9 then writes to the closed socket from a
 * setImmediate, and the TypeError kills the process (porsager/postgres#1154, #1208). The client
 * rejects the transaction by itself when its connection closes; so on a connection error the
 * work waits for that and then stays pending for good, and the client's ROLLBACK is never sent
 * (the server rolls back a session that ends). Had the connection not closed, it rethrows.
 */
function transaction<T>(client: PostgresClient, work: (tx: PostgresClient) => Promise<T>): Promise<T> {
  const begun: Promise<T> = client.begin(async (tx) => {
    try {
      return await work(tx);
    } catch (error) {
      if (postgresConnectionLost(error) && (await settlesWithin(begun, CLOSE_NOTICE_MS))) {
        return new Promise<never>(() => {});
      }
      throw error;
    }
  });
  return begun;
}

/** Whether `promise` settles within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}

/** Milliseconds from 1 to 2^31 - 1 (what a timer and PostgreSQL's timeouts take), or the default. */
function milliseconds(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1 || resolved > 2_147_483_647) {
    throw new TypeError(`${name}: must be a whole number of milliseconds from 1 to 2147483647`);
  }
  return resolved;
}

/**
 * Seconds before reconnecting after `retries` failed attempts: doubling from 50 ms up to 0.5 s,
 * with jitter. The client's own backoff grows to 20 s, and a request waits for that attempt:
 * the store would answer 503 for that long after the database is back.
 */
const reconnectDelay = (retries: number): number => Math.min(0.05 * 2 ** retries, 0.5) * (0.5 + Math.random() / 2);

/**
 * @example
 * ```ts
 * const store = await postgresStore({ url: process.env.DATABASE_URL })
 * ```
 */
export async function postgresStore(options: PostgresStoreOptions): Promise<ActionStore> {
  if ((options.url === undefined) === (options.sql === undefined))
    throw new TypeError('postgresStore: give exactly one of url or sql');
  const max = options.max ?? 10;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('max: must be a positive whole number');
  const connectTimeout = milliseconds(options.connectTimeout, 5_000, 'connectTimeout');
  const statementTimeout = milliseconds(options.statementTimeout, 5_000, 'statementTimeout');
  let client = options.sql;
  if (client === undefined) {
    let postgres: (url: string, options: Record<string, unknown>) => PostgresClient;
    try {
      postgres = ((await import(moduleName('postgres'))) as { default: typeof postgres }).default;
    } catch (cause) {
      throw new Error('postgresStore: install the postgres client (npm install postgres)', { cause });
    }
    client = postgres(options.url as string, {
      max,
      onnotice: () => {},
      connect_timeout: connectTimeout / 1000,
      backoff: reconnectDelay,
      // The server ends what outlives the store's deadline: a statement stuck on a lock, a
      // transaction whose client went away. Parameters in the URL take precedence.
      connection: {
        statement_timeout: String(statementTimeout),
        idle_in_transaction_session_timeout: String(statementTimeout),
      },
    });
  }
  const driver = postgresDriver(client, {
    closeClient: options.sql === undefined,
    concurrency: max,
    timeout: statementTimeout,
  });
  return opened(sqlStore(driver, options), options);
}
