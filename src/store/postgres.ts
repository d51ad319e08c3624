/**
 * @module store/postgres: actions in PostgreSQL, shared by many provider instances. The unique
 * (creator_id, request_id) constraint makes idempotent run atomic across instances; versioned,
 * lock-protected migrations create the schema. Uses the `postgres` client (install it:
 * `npm install postgres`), imported only when this store is used. Background work runs on
 * pg-boss (`npm install pg-boss`), over the same client, imported only when work is used.
 */
import { pgBossEngine } from '../work/pg-boss.ts';
import { withDeadline } from './deadline.ts';
import { postgresUnavailable, StoreTimeoutError } from './failures.ts';
import { numberedPlaceholders, type PostgresClient, transaction } from './postgres-client.ts';
import { opened, type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions, sqlStore } from './sql.ts';
import type { ActionStore } from './types.ts';

export { type PgBossEngine, type PgBossEngineOptions, pgBossEngine } from '../work/pg-boss.ts';
export { pgBossSchemaSql } from '../work/pg-boss-schema.ts';
export { numberedPlaceholders, type PostgresClient } from './postgres-client.ts';
export { schemaSql } from './sql.ts';

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
  // pg-boss, not the lease table: several instances share this database. Its schema comes with
  // the store's migrations (unless migrate: false), when work first runs.
  const engine = pgBossEngine({
    sql: client,
    tablePrefix: options.tablePrefix ?? 'gap_',
    migrate: options.migrate !== false,
    statementTimeout,
    max,
    retryAfter: options.retryAfter ?? 5,
  });
  const store = sqlStore(driver, options, () => engine);
  const closeStore = store.close;
  return opened(
    Object.assign(store, {
      async close() {
        // pg-boss's supervisor and registry run on the client: stop them before it closes.
        await engine.close();
        await closeStore?.();
      },
    }),
    options,
  );
}
