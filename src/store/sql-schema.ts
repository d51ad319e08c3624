/**
 * @module store/sql-schema: the SQL store's tables and indexes, as versioned migrations applied
 * once per database (under a lock on PostgreSQL, where instances may start together).
 */
import { isActionError } from '../http/errors.ts';
import { type SqlDialect, type SqlDriver, stmt } from './sql-driver.ts';

/**
 * The versioned schema. Instances racing to migrate are safe: a migration claims its version
 * before its statements run (see `migrate`), and versions 1 and 2 are idempotent besides.
 */
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
    {
      // Enumerate a page at a time, newest first, reading about a page per (principal, role,
      // status): each principals row carries its action's status and start time, ordered in one
      // index, and the creator is a principal too (role 'creator'). Triggers keep the copies
      // right whoever writes: the store, a work engine, an instance still on version 2 during a
      // rolling upgrade (whose principals rows come without them), or SQL run by hand.
      version: 3,
      statements: [...orderedPrincipals(dialect, p)],
    },
  ];
}

/** Version 3's statements (see its comment in `migrations`). */
function orderedPrincipals(dialect: SqlDialect, p: string): string[] {
  const principals = `${p}principals`;
  const actions = `${p}actions`;
  const of = (column: string) => `(SELECT a.${column} FROM ${actions} a WHERE a.action_id = ${principals}.action_id)`;
  const common = [
    `UPDATE ${principals} SET status = ${of('status')}, start_time = ${of('start_time')} WHERE status IS NULL`,
    `INSERT INTO ${principals} (principal, role, action_id, status, start_time) ` +
      `SELECT creator_id, 'creator', action_id, status, start_time FROM ${actions} WHERE true ON CONFLICT DO NOTHING`,
    `CREATE INDEX IF NOT EXISTS ${p}principals_order ON ${principals} (principal, role, status, start_time, action_id)`,
  ];
  const creatorRow =
    `INSERT INTO ${principals} (principal, role, action_id, status, start_time) ` +
    `VALUES (NEW.creator_id, 'creator', NEW.action_id, NEW.status, NEW.start_time) ON CONFLICT DO NOTHING`;
  const statusCopy = `UPDATE ${principals} SET status = NEW.status WHERE action_id = NEW.action_id`;
  if (dialect === 'sqlite') {
    // Each trigger on one line: a migration file splits its statements at a `;` that ends a line.
    return [
      `ALTER TABLE ${principals} ADD COLUMN status TEXT`,
      `ALTER TABLE ${principals} ADD COLUMN start_time TEXT`,
      ...common,
      `CREATE TRIGGER IF NOT EXISTS ${p}principals_creator AFTER INSERT ON ${actions} BEGIN ${creatorRow}; END`,
      `CREATE TRIGGER IF NOT EXISTS ${p}principals_fill AFTER INSERT ON ${principals} WHEN NEW.status IS NULL BEGIN ` +
        `UPDATE ${principals} SET status = (SELECT status FROM ${actions} WHERE action_id = NEW.action_id), ` +
        `start_time = (SELECT start_time FROM ${actions} WHERE action_id = NEW.action_id) ` +
        `WHERE principal = NEW.principal AND role = NEW.role AND action_id = NEW.action_id; END`,
      `CREATE TRIGGER IF NOT EXISTS ${p}principals_status AFTER UPDATE OF status ON ${actions} ` +
        `WHEN OLD.status <> NEW.status BEGIN ${statusCopy}; END`,
    ];
  }
  const fn = (name: string, body: string) =>
    `CREATE OR REPLACE FUNCTION ${p}${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; END $$`;
  const trigger = (name: string, when: string, table: string, condition = '') => [
    `DROP TRIGGER IF EXISTS ${p}${name} ON ${table}`,
    `CREATE TRIGGER ${p}${name} ${when} ON ${table} FOR EACH ROW ${condition}EXECUTE FUNCTION ${p}${name}()`,
  ];
  return [
    `ALTER TABLE ${principals} ADD COLUMN IF NOT EXISTS status TEXT, ADD COLUMN IF NOT EXISTS start_time TEXT`,
    ...common,
    fn('principals_creator', `${creatorRow}; RETURN NULL`),
    fn(
      'principals_fill',
      `SELECT a.status, a.start_time INTO NEW.status, NEW.start_time FROM ${actions} a WHERE a.action_id = NEW.action_id; RETURN NEW`,
    ),
    fn('principals_status', `${statusCopy}; RETURN NULL`),
    ...trigger('principals_creator', 'AFTER INSERT', actions),
    ...trigger('principals_fill', 'BEFORE INSERT', principals, 'WHEN (NEW.status IS NULL) '),
    ...trigger(
      'principals_status',
      'AFTER UPDATE OF status',
      actions,
      'WHEN (OLD.status IS DISTINCT FROM NEW.status) ',
    ),
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
  const latest = all.at(-1)?.version ?? current;
  if (pending.length === 0) return current;
  try {
    await driver.batch([
      ...lock,
      // Each migration first claims its version: an instance that saw the old version but
      // migrates second fails here, before any statement of it runs twice (version 3's ALTER
      // TABLE cannot run twice on SQLite), and finds the work done.
      ...pending.flatMap((m) => [
        stmt(
          `INSERT INTO ${p}schema_migrations (version, applied_at) VALUES (?, ?)`,
          m.version,
          new Date().toISOString(),
        ),
        ...m.statements.map((sql) => stmt(sql)),
      ]),
    ]);
  } catch (error) {
    const now = Number(
      (await driver.execute(stmt(`SELECT MAX(version) AS v FROM ${p}schema_migrations`))).rows[0]?.['v'] ?? 0,
    );
    if (now >= latest) return now;
    throw error;
  }
  return latest;
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
