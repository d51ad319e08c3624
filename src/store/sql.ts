/**
 * @module store/sql: one ActionStore over SQL, shared by every SQL backend: SQLite (embedded:
 * better-sqlite3, bun:sqlite, node:sqlite), Cloudflare D1 (SQLite too) and PostgreSQL. A
 * driver only runs statements; the schema, migrations and queries live here once.
 */
import type { ActionRecord } from '../model.ts';
import type { ActionPage, ActionQuery, ActionStore, CreateResult } from './types.ts';

export type SqlDialect = 'sqlite' | 'postgres';

/** A statement with `?` placeholders (drivers for `$n` dialects convert them). */
export interface SqlStatement {
  sql: string;
  params: readonly unknown[];
}

export interface SqlResult {
  /** Rows changed (INSERT, UPDATE, DELETE). */
  changes: number;
  /** Rows returned (SELECT). */
  rows: Record<string, unknown>[];
}

/** What a database must offer the SQL store. */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** Run one statement. */
  execute(statement: SqlStatement): Promise<SqlResult>;
  /** Run statements in order, atomically (all or none). */
  batch(statements: readonly SqlStatement[]): Promise<SqlResult[]>;
  close?(): Promise<void>;
}

export interface SqlStoreOptions {
  /** Prefix of the table names. Default `gap_`. */
  tablePrefix?: string;
}

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
  ];
}

const stmt = (sql: string, ...params: unknown[]): SqlStatement => ({ sql, params });

/** Parse the `record` column: JSONB arrives parsed from PostgreSQL, TEXT as a string from SQLite. */
function toRecord(value: unknown): ActionRecord {
  return (typeof value === 'string' ? JSON.parse(value) : value) as ActionRecord;
}

/**
 * An ActionStore over any SqlDriver. Call `migrate()` (the `*Store()` factories do) before use.
 */
export function sqlStore(
  driver: SqlDriver,
  options: SqlStoreOptions = {},
): ActionStore & { migrate(): Promise<number> } {
  const p = options.tablePrefix ?? 'gap_';
  if (!/^[a-z_][a-z0-9_]*$/i.test(p)) throw new TypeError('tablePrefix: letters, digits and underscores only');
  const actions = `${p}actions`;
  const principals = `${p}principals`;
  // PostgreSQL: the record travels as text and is parsed into JSONB by the cast (bound as jsonb,
  // the client would encode the already-encoded text again and store a JSON string).
  const jsonParam = driver.dialect === 'postgres' ? '?::text::jsonb' : '?';
  const insertPrincipal =
    `INSERT INTO ${principals} (principal, role, action_id) SELECT ?, ?, ? ` +
    `WHERE EXISTS (SELECT 1 FROM ${actions} WHERE action_id = ?) ON CONFLICT DO NOTHING`;

  async function migrate(): Promise<number> {
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

  return {
    migrate,
    async create(record): Promise<CreateResult> {
      const results = await driver.batch([
        stmt(
          `INSERT INTO ${actions} (action_id, creator_id, request_id, status, start_time, expires_at, version, record) ` +
            `VALUES (?, ?, ?, ?, ?, ?, ?, ${jsonParam}) ON CONFLICT DO NOTHING`,
          record.action_id,
          record.creator_id,
          record.request_id,
          record.status,
          record.start_time,
          record.expires_at,
          record.version,
          JSON.stringify(record),
        ),
        ...record.monitor_by.map((principal) =>
          stmt(insertPrincipal, principal, 'monitor', record.action_id, record.action_id),
        ),
        ...record.manage_by.map((principal) =>
          stmt(insertPrincipal, principal, 'manage', record.action_id, record.action_id),
        ),
        stmt(
          `SELECT record FROM ${actions} WHERE creator_id = ? AND request_id = ?`,
          record.creator_id,
          record.request_id,
        ),
      ]);
      const row = results.at(-1)?.rows[0];
      if (row === undefined) throw new Error(`action_id ${record.action_id} collided with another action`);
      const stored = toRecord(row['record']);
      return stored.action_id === record.action_id && results[0]?.changes === 1
        ? { created: true, record: stored }
        : { created: false, record: stored };
    },
    async get(actionId) {
      const { rows } = await driver.execute(stmt(`SELECT record FROM ${actions} WHERE action_id = ?`, actionId));
      return rows[0] === undefined ? undefined : toRecord(rows[0]['record']);
    },
    async update(record) {
      const { changes } = await driver.execute(
        stmt(
          `UPDATE ${actions} SET status = ?, expires_at = ?, version = ?, record = ${jsonParam} WHERE action_id = ? AND version = ?`,
          record.status,
          record.expires_at,
          record.version,
          JSON.stringify(record),
          record.action_id,
          record.version - 1,
        ),
      );
      return changes === 1 ? record : undefined;
    },
    async delete(actionId) {
      const results = await driver.batch([
        stmt(`DELETE FROM ${principals} WHERE action_id = ?`, actionId),
        stmt(`DELETE FROM ${actions} WHERE action_id = ?`, actionId),
      ]);
      return (results[1]?.changes ?? 0) > 0;
    },
    async list(query: ActionQuery): Promise<ActionPage> {
      const params: unknown[] = [];
      const marks = (values: readonly unknown[]) => {
        params.push(...values);
        return values.map(() => '?').join(', ');
      };
      const creators = query.creator_id?.length ? marks(query.creator_id) : undefined;
      const sources =
        creators === undefined ? [] : [`SELECT action_id FROM ${actions} WHERE creator_id IN (${creators})`];
      for (const [role, list] of [
        ['monitor', query.monitor_by],
        ['manage', query.manage_by],
      ] as const) {
        if (list?.length)
          sources.push(`SELECT action_id FROM ${principals} WHERE role = '${role}' AND principal IN (${marks(list)})`);
      }
      if (sources.length === 0 || query.statuses.length === 0) return { actions: [] };
      // The creator alone: a's own column, so the (creator_id, status, start_time) index serves.
      // Several roles: one IN over the matching ids, which both planners run as a join from those
      // ids; an OR of EXISTS cannot be, and scanned every action (about 1 s at 1,000,000 rows).
      const who =
        sources.length === 1 && creators !== undefined
          ? `a.creator_id IN (${creators})`
          : `a.action_id IN (${sources.join(' UNION ALL ')})`;
      let where = `${who} AND a.status IN (${marks(query.statuses)}) AND (a.expires_at IS NULL OR a.expires_at > ?)`;
      params.push(query.now);
      if (query.cursor !== undefined) {
        const [time = '', id = ''] = query.cursor.split(' ');
        where += ' AND (a.start_time > ? OR (a.start_time = ? AND a.action_id > ?))';
        params.push(time, time, id);
      }
      if (!Number.isSafeInteger(query.limit) || query.limit < 0)
        throw new TypeError('list: limit must be a non-negative integer');
      // The limit is written into the SQL, not bound: with `LIMIT $n` PostgreSQL's generic plan
      // (chosen after five runs of a prepared statement) walks every action in start_time order.
      const { rows } = await driver.execute({
        sql: `SELECT a.record FROM ${actions} a WHERE ${where} ORDER BY a.start_time, a.action_id LIMIT ${query.limit + 1}`,
        params,
      });
      const found = rows.slice(0, query.limit).map((row) => toRecord(row['record']));
      const last = found.at(-1);
      return rows.length > query.limit && last !== undefined
        ? { actions: found, cursor: `${last.start_time} ${last.action_id}` }
        : { actions: found };
    },
    async deleteExpired(now) {
      const results = await driver.batch([
        stmt(
          `DELETE FROM ${principals} WHERE action_id IN (SELECT action_id FROM ${actions} WHERE expires_at <= ?)`,
          now,
        ),
        stmt(`DELETE FROM ${actions} WHERE expires_at <= ?`, now),
      ]);
      return results[1]?.changes ?? 0;
    },
    async close() {
      await driver.close?.();
    },
  };
}
