/**
 * @module store/sql-queries: the statements of the SQL store, written once for SQLite, D1 and
 * PostgreSQL (`?` placeholders; the PostgreSQL driver numbers them).
 */
import type { ActionRecord } from '../model.ts';
import { type SqlDialect, type SqlStatement, stmt } from './sql-driver.ts';
import { encodeRecord, encodeKey as key } from './sql-encoding.ts';
import type { ActionQuery } from './types.ts';

/** The statements for tables named with prefix `p`. */
export function sqlQueries(dialect: SqlDialect, p: string) {
  const actions = `${p}actions`;
  const principals = `${p}principals`;
  // PostgreSQL: the record travels as text and is parsed into JSONB by the cast (bound as jsonb,
  // the client would encode the already-encoded text again and store a JSON string).
  const json = dialect === 'postgres' ? '?::text::jsonb' : '?';
  // All of a role's principals in one statement, as one JSON array however many there are:
  // a statement per principal held the database for seconds at 80,000 of them, and a row of
  // placeholders per principal would exceed D1's 100 parameters.
  const elements = dialect === 'postgres' ? 'json_array_elements_text(?::text::json)' : 'json_each(?)';
  const insertPrincipals =
    `INSERT INTO ${principals} (principal, role, action_id) SELECT value, ?, ? FROM ${elements} ` +
    `WHERE EXISTS (SELECT 1 FROM ${actions} WHERE action_id = ?) ON CONFLICT DO NOTHING`;
  const principalRows = (role: string, id: string, list: readonly string[]): SqlStatement[] =>
    list.length === 0 ? [] : [stmt(insertPrincipals, role, key(id), JSON.stringify(list.map(key)), key(id))];
  return {
    /** Insert unless (creator_id, request_id) exists, with its principals; the last statement reads the winner. */
    create: (r: ActionRecord): SqlStatement[] => [
      stmt(
        `INSERT INTO ${actions} (action_id, creator_id, request_id, status, start_time, expires_at, version, record) ` +
          `VALUES (?, ?, ?, ?, ?, ?, ?, ${json}) ON CONFLICT DO NOTHING`,
        ...[key(r.action_id), key(r.creator_id), key(r.request_id), r.status, r.start_time, r.expires_at, r.version],
        encodeRecord(r),
      ),
      ...principalRows('monitor', r.action_id, r.monitor_by),
      ...principalRows('manage', r.action_id, r.manage_by),
      stmt(
        `SELECT record FROM ${actions} WHERE creator_id = ? AND request_id = ?`,
        key(r.creator_id),
        key(r.request_id),
      ),
    ],
    get: (actionId: string) => stmt(`SELECT record FROM ${actions} WHERE action_id = ?`, key(actionId)),
    /** Replace the record only if the stored version is the one before it. */
    update: (r: ActionRecord) =>
      stmt(
        `UPDATE ${actions} SET status = ?, expires_at = ?, version = ?, record = ${json} WHERE action_id = ? AND version = ?`,
        ...[r.status, r.expires_at, r.version, encodeRecord(r), key(r.action_id), r.version - 1],
      ),
    delete: (actionId: string) => [
      stmt(`DELETE FROM ${principals} WHERE action_id = ?`, key(actionId)),
      stmt(`DELETE FROM ${actions} WHERE action_id = ?`, key(actionId)),
    ],
    deleteExpired: (now: number) => [
      stmt(
        `DELETE FROM ${principals} WHERE action_id IN (SELECT action_id FROM ${actions} WHERE expires_at <= ?)`,
        now,
      ),
      stmt(`DELETE FROM ${actions} WHERE expires_at <= ?`, now),
    ],
    list: (query: ActionQuery) => listStatement(actions, principals, query),
    count: (now: number) =>
      stmt(
        `SELECT status, COUNT(*) AS n FROM ${actions} WHERE expires_at IS NULL OR expires_at > ? GROUP BY status`,
        now,
      ),
  };
}

/** One page of `query` plus one row (to tell whether more follow); undefined when nothing can match. */
function listStatement(actions: string, principals: string, query: ActionQuery): SqlStatement | undefined {
  const params: unknown[] = [];
  const marks = (values: readonly unknown[]) => {
    params.push(...values);
    return values.map(() => '?').join(', ');
  };
  const creators = query.creator_id?.length ? marks(query.creator_id.map(key)) : undefined;
  const sources = creators === undefined ? [] : [`SELECT action_id FROM ${actions} WHERE creator_id IN (${creators})`];
  for (const [role, list] of [
    ['monitor', query.monitor_by],
    ['manage', query.manage_by],
  ] as const) {
    if (list?.length) {
      sources.push(
        `SELECT action_id FROM ${principals} WHERE role = '${role}' AND principal IN (${marks(list.map(key))})`,
      );
    }
  }
  if (query.statuses.length === 0 || (sources.length === 0 && query.everyone !== true)) return undefined;
  // The creator alone: a's own column, so the (creator_id, status, start_time) index serves.
  // Several roles: one IN over the matching ids, which both planners run as a join from those
  // ids; an OR of EXISTS cannot be, and scanned every action (about 1 s at 1,000,000 rows).
  const who =
    query.everyone === true
      ? 'TRUE'
      : sources.length === 1 && creators !== undefined
        ? `a.creator_id IN (${creators})`
        : `a.action_id IN (${sources.join(' UNION ALL ')})`;
  let where = `${who} AND a.status IN (${marks(query.statuses)}) AND (a.expires_at IS NULL OR a.expires_at > ?)`;
  params.push(query.now);
  if (query.cursor !== undefined) {
    const [time = '', id = ''] = query.cursor.split(' ');
    where += ' AND (a.start_time > ? OR (a.start_time = ? AND a.action_id > ?))';
    params.push(key(time), key(time), key(id));
  }
  if (!Number.isSafeInteger(query.limit) || query.limit < 0) {
    throw new TypeError('list: limit must be a non-negative integer');
  }
  // The limit is written into the SQL, not bound: with `LIMIT $n` PostgreSQL's generic plan
  // (chosen after five runs of a prepared statement) walks every action in start_time order.
  const order = `ORDER BY a.start_time, a.action_id LIMIT ${query.limit + 1}`;
  return { sql: `SELECT a.record FROM ${actions} a WHERE ${where} ${order}`, params };
}
