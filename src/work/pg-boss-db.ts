/**
 * @module work/pg-boss-db: pg-boss's database (its `IDatabase`: `executeSql`) over the store's
 * own `postgres` client, so the engine opens no pool of its own and pg-boss's `pg` driver never
 * connects: one set of connection settings, one pool size, the store's timeouts.
 */
import type { Bounded } from '../store/deadline.ts';
import type { PostgresClient } from '../store/postgres-client.ts';

/** What pg-boss calls on a database (types.d.ts `IDatabase`, the required part). */
export interface BossDatabase {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** pg-boss's install, migration and queue scripts start with their own `BEGIN`. */
const OPENS_TRANSACTION = /^\s*BEGIN\b/i;

/**
 * pg-boss's statements on `client` (the pool, or a transaction: `send(..., { db })` inside one
 * queues a job with the transaction's other writes). `bounded`, when given, limits each call as
 * the store's own are (store/deadline.ts).
 */
export function bossDatabase(client: PostgresClient, bounded?: Bounded): BossDatabase {
  const run = async (text: string, values: readonly unknown[] | undefined) => {
    if (values !== undefined && values.length > 0) {
      // The client refuses undefined parameters; pg-boss means NULL by them.
      const params = values.map((value) => (value === undefined ? null : value));
      return client.unsafe(text, params, { prepare: true });
    }
    // Without parameters the client speaks the simple protocol, which takes several statements.
    if (!OPENS_TRANSACTION.test(text)) return client.unsafe(text);
    // A script that opens its own transaction needs a connection of its own: on the shared pool the
    // client refuses BEGIN (UNSAFE_TRANSACTION), since its next statement could go elsewhere.
    if (client.reserve === undefined) {
      throw new TypeError('pg-boss: the postgres client has no reserve() (postgres 3.4 has it)');
    }
    const reserved = await client.reserve();
    try {
      return await reserved.unsafe(text);
    } catch (error) {
      // A failed script leaves its transaction open and aborted (the server skips the rest,
      // COMMIT included): end it, or the next statement on this connection fails. pg-boss
      // expects some failures here, two instances racing to install ("already exists").
      await reserved.unsafe('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      reserved.release();
    }
  };
  return {
    async executeSql(text, values) {
      const result = await (bounded === undefined ? run(text, values) : bounded(() => run(text, values)));
      // Several statements give one array of rows each; pg-boss reads them as one list (as it
      // does node-postgres' array of results), so a RETURNING before a COMMIT is not lost.
      const rows: Record<string, unknown>[] = result.some(Array.isArray)
        ? (result as unknown as Record<string, unknown>[][]).flat()
        : [...result];
      return { rows };
    },
  };
}
