/**
 * @module store/sql-schema: the SQL store's tables and indexes, as versioned migrations applied
 * once per database (under a lock on PostgreSQL, where instances may start together).
 */
import { isActionError } from '../http/errors.ts';
import { type SqlDialect, type SqlDriver, stmt } from './sql-driver.ts';

/** The versioned schema. Each statement is idempotent, so instances racing to migrate are safe. */
function migrations(dialect: SqlDialect, p: string): { version: number; statements: string[] }[] {
  const json = dialect === 'postgres' ? 'JSONB' : 'TEXT';
  const bigint = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    {
      version: 1,
      statements: [
        `CREATE TABLE IF NOT EXISTS ${p}actions (
          action_id TEXT PRIMARY KEY,
          creator_id TEXT NOT NULL,
          request_id TEXT NOT NULL,
          status TEXT NOT NULL,
          start_time TEXT NOT NULL,
          expires_at ${bigint},
          version INTEGER NOT NULL,
          record ${json} NOT NULL,
          CONSTRAINT ${p}actions_request UNIQUE (creator_id, request_id)
        )`,
        // monitor_by / manage_by, one row per principal, so enumerate by role is an index lookup.
        `CREATE TABLE IF NOT EXISTS ${p}principals (
          principal TEXT NOT NULL,
          role TEXT NOT NULL,
          action_id TEXT NOT NULL,
          PRIMARY KEY (principal, role, action_id)
        )`,
        `CREATE INDEX IF NOT EXISTS ${p}principals_action ON ${p}principals (action_id)`,
        `CREATE INDEX IF NOT EXISTS ${p}actions_creator ON ${p}actions (creator_id, status, start_time, action_id)`,
        `CREATE INDEX IF NOT EXISTS ${p}actions_order ON ${p}actions (start_time, action_id)`,
        `CREATE INDEX IF NOT EXISTS ${p}actions_expiry ON ${p}actions (expires_at) WHERE expires_at IS NOT NULL`,
      ],
    },
    {
      // Background work (work/sql.ts): one row per action with work queued or leased.
      version: 2,
      statements: [
        `CREATE TABLE IF NOT EXISTS ${p}work (
          action_id TEXT PRIMARY KEY,
          attempts INTEGER NOT NULL,
          due_at ${bigint} NOT NULL,
          lease_owner TEXT,
          requeued INTEGER NOT NULL DEFAULT 0
        )`,
        `CREATE INDEX IF NOT EXISTS ${p}work_due ON ${p}work (due_at)`,
        // The operator view lists actions by status without a principal.
        `CREATE INDEX IF NOT EXISTS ${p}actions_status ON ${p}actions (status, start_time, action_id)`,
      ],
    },
  ];
}

/** Apply the migrations `driver`'s database lacks; resolves to the schema version. */
export async function migrate(driver: SqlDriver, p: string): Promise<number> {
  const all = migrations(driver.dialect, p);
  // Instances starting together serialise on a transaction-scoped lock (PostgreSQL's
  // CREATE ... IF NOT EXISTS is not safe against a concurrent twin without it). Pending
  // migrations are idempotent, so two instances that both saw an old version stay correct.
  const lock = driver.dialect === 'postgres' ? [stmt('SELECT pg_advisory_xact_lock(729104331)')] : [];
  await driver.batch([
    ...lock,
    stmt(`CREATE TABLE IF NOT EXISTS ${p}schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`),
  ]);
  const current = Number(
    (await driver.execute(stmt(`SELECT MAX(version) AS v FROM ${p}schema_migrations`))).rows[0]?.['v'] ?? 0,
  );
  const pending = all.filter((m) => m.version > current);
  if (pending.length === 0) return current;
  await driver.batch([
    ...lock,
    ...pending.flatMap((m) => [
      ...m.statements.map((sql) => stmt(sql)),
      stmt(
        `INSERT INTO ${p}schema_migrations (version, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
        m.version,
        new Date().toISOString(),
      ),
    ]),
  ]);
  return all.at(-1)?.version ?? current;
}

/**
 * Whether `driver`'s database has every migration: its schema_migrations records the latest
 * version. A database that cannot be reached rejects (the store's 503); one without the table
 * (never migrated) resolves false.
 */
export async function migrated(driver: SqlDriver, p: string): Promise<boolean> {
  const latest = migrations(driver.dialect, p).at(-1)?.version ?? 0;
  try {
    const { rows } = await driver.execute(stmt(`SELECT MAX(version) AS v FROM ${p}schema_migrations`));
    return Number(rows[0]?.['v'] ?? 0) >= latest;
  } catch (error) {
    if (isActionError(error)) throw error; // unavailable (the guarded driver's 503), not missing
    return false;
  }
}

/**
 * The whole schema as SQL statements to run by hand (a DBA, a migration tool, `wrangler d1
 * migrations`), for a store opened with `migrate: false`: the tables, the indexes and the
 * record of the version, so a store that does migrate later knows there is nothing to do.
 *
 * @example
 * ```ts
 * for (const sql of schemaSql('postgres', { tablePrefix: 'echo_' })) console.log(`${sql};`)
 * ```
 */
export function schemaSql(dialect: SqlDialect, options: { tablePrefix?: string } = {}): string[] {
  const p = options.tablePrefix ?? 'gap_';
  if (!/^[a-z_][a-z0-9_]*$/i.test(p)) throw new TypeError('tablePrefix: letters, digits and underscores only');
  const all = migrations(dialect, p);
  return [
    `CREATE TABLE IF NOT EXISTS ${p}schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
    ...all.flatMap((m) => [
      ...m.statements,
      `INSERT INTO ${p}schema_migrations (version, applied_at) VALUES (${m.version}, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING`,
    ]),
  ];
}
