/**
 * @module store/sql-queries: the statements of the SQL store, written once for SQLite, D1 and
 * PostgreSQL (`?` placeholders; the PostgreSQL driver numbers them).
 */
import { ACTION_STATUSES, type ActionRecord, type ActionStatusValue } from '../model.ts';
import { type SqlDialect, type SqlStatement, stmt } from './sql-driver.ts';
import { encodeRecord, encodeKey as key } from './sql-encoding.ts';
import { type ActionQuery, checkListLimit } from './types.ts';

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
  // With the action's status and start time, which order enumerate's pages (schema version 3);
  // none when the action's insert lost to another with its request_id.
  const insertPrincipals =
    `INSERT INTO ${principals} (principal, role, action_id, status, start_time) ` +
    `SELECT j.value, ?, a.action_id, a.status, a.start_time FROM ${elements} j, ${actions} a ` +
    'WHERE a.action_id = ? ON CONFLICT DO NOTHING';
  const principalRows = (role: string, id: string, list: readonly string[]): SqlStatement[] =>
    list.length === 0 ? [] : [stmt(insertPrincipals, role, JSON.stringify(list.map(key)), key(id))];
  return {
    /**
     * Insert unless (creator_id, request_id) exists, with its principals (the creator's row is
     * a trigger's: see sql-schema.ts); the last statement reads the winner.
     */
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
    list: (query: ActionQuery) => listStatement(dialect, actions, principals, query),
    count: (now: number) =>
      stmt(
        `SELECT status, COUNT(*) AS n FROM ${actions} WHERE expires_at IS NULL OR expires_at > ? GROUP BY status`,
        now,
      ),
  };
}

/** The most (principal, role, status) triples one page merges in SQL; past it, one sorting query. */
export const MAX_LIST_ARMS = 200;

/** One place in the order: a sorted list of one principal in one role and status (or of one status). */
interface Arm {
  status: ActionStatusValue;
  /** Absent for the operator view (every action in the status). */
  role?: 'creator' | 'monitor' | 'manage';
  principal?: string;
}

/**
 * One page of `query` plus one row (to tell whether more follow), newest first, or undefined
 * when nothing can match: rows of (start_time, action_id, expires_at, record); the store
 * leaves out those past their expiry (the sweeper deletes them). Each arm reads its
 * index backwards from the cursor, and only the index: SQLite merges the arms lazily and reads
 * about a page in all, PostgreSQL at most a page of each. The work is bounded by the page size
 * (times the arms), not by how many actions match, expired ones included. Statuses and roles
 * are written into the SQL (they are checked against fixed lists); every other value is bound.
 */
function listStatement(
  dialect: SqlDialect,
  actions: string,
  principals: string,
  query: ActionQuery,
): SqlStatement | undefined {
  checkListLimit(query.limit);
  for (const status of query.statuses) {
    if (!ACTION_STATUSES.includes(status)) throw new TypeError(`list: unknown status ${JSON.stringify(status)}`);
  }
  const statuses = [...new Set(query.statuses)];
  const roles = [
    ['creator', query.creator_id],
    ['monitor', query.monitor_by],
    ['manage', query.manage_by],
  ] as const;
  const arms: Arm[] =
    query.everyone === true
      ? statuses.map((status) => ({ status }))
      : roles.flatMap(([role, list]) =>
          [...new Set(list ?? [])].flatMap((principal) => statuses.map((status) => ({ status, role, principal }))),
        );
  if (arms.length === 0) return undefined;
  const cursor = query.cursor === undefined ? undefined : splitCursor(query.cursor);
  // The limit is written into the SQL, not bound: with `LIMIT $n` PostgreSQL's generic plan
  // (chosen after five runs of a prepared statement) walks every action in start_time order.
  const limit = query.limit + 1;
  const { keys, params } =
    arms.length > MAX_LIST_ARMS
      ? sortedKeys(dialect, actions, principals, query, statuses, cursor, limit)
      : mergedKeys(dialect, actions, principals, arms, cursor, limit);
  // PostgreSQL reads each record by its key (LATERAL, with a LIMIT so it is not flattened into
  // a join): planned as a join, it may hash the whole actions table rather than look up a page
  // of rows. SQLite only ever loops.
  const join =
    dialect === 'postgres'
      ? `CROSS JOIN LATERAL (SELECT r.expires_at, r.record FROM ${actions} r WHERE r.action_id = k.action_id LIMIT 1) a`
      : `JOIN ${actions} a ON a.action_id = k.action_id`;
  return {
    sql:
      `${keys.head}SELECT k.start_time, k.action_id, a.expires_at, a.record ` +
      `FROM (${keys.select}) k ${join} ORDER BY k.start_time DESC, k.action_id DESC`,
    params,
  };
}

/** A cursor as (start_time, action_id), both as the columns hold them; any string is some place. */
function splitCursor(cursor: string): [string, string] {
  const space = cursor.indexOf(' ');
  return space < 0 ? [key(cursor), ''] : [key(cursor.slice(0, space)), key(cursor.slice(space + 1))];
}

/** The keys of a page: a SELECT of (start_time, action_id), and a WITH clause it needs, if any. */
interface Keys {
  keys: { head: string; select: string };
  params: unknown[];
}

/** The arms merged: a UNION (which also drops an action two arms share), newest first, a page of it. */
function mergedKeys(
  dialect: SqlDialect,
  actions: string,
  principals: string,
  arms: readonly Arm[],
  cursor: [string, string] | undefined,
  limit: number,
): Keys {
  const params: unknown[] = [];
  // SQLite takes the cursor once, from a one-row CTE, and the principals from one JSON array
  // (D1 binds at most 100 values): its planner still uses them as index bounds. PostgreSQL
  // binds each arm's own, so its planner sees constants.
  const sqlite = dialect === 'sqlite';
  const who: string[] = [];
  const value = (name: 't' | 'id', bound: unknown) => {
    if (sqlite) return `(SELECT ${name} FROM q)`;
    params.push(bound);
    return '?';
  };
  const principal = (p: string) => {
    if (sqlite) {
      who.push(key(p));
      return `(SELECT value FROM who WHERE key = ${who.length - 1})`;
    }
    params.push(key(p));
    return '?';
  };
  const term = ({ status, role, principal: p }: Arm) => {
    // Whose: the principals index (principal, role, status, start_time, action_id); the
    // operator view: the actions index (status, start_time, action_id). Built in the order the
    // SQL reads, so PostgreSQL's parameters line up.
    const from =
      role === undefined
        ? `${actions} x WHERE x.status = '${status}'`
        : `${principals} x WHERE x.principal = ${principal(p as string)} AND x.role = '${role}' AND x.status = '${status}'`;
    const after =
      cursor === undefined
        ? ''
        : ` AND (x.start_time, x.action_id) < (${value('t', cursor[0])}, ${value('id', cursor[1])})`;
    const keys = `SELECT x.start_time, x.action_id FROM ${from}${after}`;
    // SQLite merges bare terms lazily, each read in its index's order, until the LIMIT; a term
    // of its own with ORDER BY and LIMIT would be read to its limit and sorted, about four times
    // the work. PostgreSQL's terms each get their own LIMIT, so no term is read past a page.
    return sqlite ? keys : `SELECT * FROM (${keys} ORDER BY x.start_time DESC, x.action_id DESC LIMIT ${limit}) p`;
  };
  const ordered = `ORDER BY 1 DESC, 2 DESC LIMIT ${limit}`;
  const terms = arms.map(term);
  if (!sqlite) {
    // UNION ALL under DISTINCT: a Merge Append of the terms, read lazily, then Unique (a plain
    // UNION hashes every term's rows first).
    const select = `SELECT DISTINCT u.start_time, u.action_id FROM (${terms.join(' UNION ALL ')}) u ${ordered}`;
    return { keys: { head: '', select }, params };
  }
  const select = `${unionOf(terms, ordered)} ${ordered}`;
  return {
    keys: { head: 'WITH q(t, id) AS (SELECT ?, ?), who AS (SELECT key, value FROM json_each(?)) ', select },
    params: [cursor?.[0] ?? null, cursor?.[1] ?? null, JSON.stringify(who)],
  };
}

/** The most terms D1 takes in one compound SELECT (SQLite's default is 500). */
const D1_COMPOUND_TERMS = 5;

/**
 * `terms` joined by UNION, for SQLite: past D1's limit, nested in groups of at most that many,
 * each group ordered and limited like the whole (so it too is merged lazily, and gives at most a page).
 */
function unionOf(terms: readonly string[], ordered: string): string {
  if (terms.length <= D1_COMPOUND_TERMS) return terms.join(' UNION ');
  const groups: string[] = [];
  for (let i = 0; i < terms.length; i += D1_COMPOUND_TERMS) {
    groups.push(`SELECT * FROM (${terms.slice(i, i + D1_COMPOUND_TERMS).join(' UNION ')} ${ordered}) u`);
  }
  return unionOf(groups, ordered);
}

/**
 * Past MAX_LIST_ARMS (a caller in very many groups asking for every role and status): one query
 * that reads every matching principals row and sorts, as the store did before it paged.
 */
function sortedKeys(
  dialect: SqlDialect,
  actions: string,
  principals: string,
  query: ActionQuery,
  statuses: readonly ActionStatusValue[],
  cursor: [string, string] | undefined,
  limit: number,
): Keys {
  const params: unknown[] = [];
  const roles = (
    [
      ['creator', query.creator_id],
      ['monitor', query.monitor_by],
      ['manage', query.manage_by],
    ] as const
  )
    .filter(([, list]) => list !== undefined && list.length > 0)
    // Each list as one JSON array: D1 binds at most 100 values.
    .map(([role, list]) => {
      params.push(JSON.stringify((list as readonly string[]).map(key)));
      const each =
        dialect === 'postgres' ? 'SELECT json_array_elements_text(?::text::json)' : 'SELECT value FROM json_each(?)';
      return `(x.role = '${role}' AND x.principal IN (${each}))`;
    });
  const whose = query.everyone === true ? 'TRUE' : `(${roles.join(' OR ')})`;
  const table = query.everyone === true ? actions : principals;
  let where = `${whose} AND x.status IN (${statuses.map((s) => `'${s}'`).join(', ')})`;
  if (cursor !== undefined) {
    where += ' AND (x.start_time, x.action_id) < (?, ?)';
    params.push(...cursor);
  }
  const select = `SELECT DISTINCT x.start_time, x.action_id FROM ${table} x WHERE ${where} ORDER BY 1 DESC, 2 DESC LIMIT ${limit}`;
  return { keys: { head: '', select }, params };
}
