/**
 * @module store/postgres-client: the `postgres` client (porsager/postgres) as the PostgreSQL
 * store and its work engine (pg-boss) use it: the part of its API they call, the store's `?`
 * placeholders numbered for it, and a transaction that survives a lost connection.
 */
import { postgresConnectionLost } from './failures.ts';

/** The part of a `postgres` client (porsager/postgres) the store and its work engine use. */
export interface PostgresClient {
  unsafe(
    query: string,
    params?: unknown[],
    options?: { prepare?: boolean },
  ): Promise<Record<string, unknown>[] & { count: number }>;
  begin<T>(fn: (sql: PostgresClient) => Promise<T>): Promise<T>;
  /**
   * One connection of the pool, held until `release()`: pg-boss's schema scripts open their own
   * transaction (`BEGIN; ...; COMMIT;`), which the client runs only on a connection of its own.
   */
  reserve?(): Promise<PostgresClient & { release(): void }>;
  end(options?: { timeout?: number }): Promise<void>;
}

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
export function transaction<T>(client: PostgresClient, work: (tx: PostgresClient) => Promise<T>): Promise<T> {
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
