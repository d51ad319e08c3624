/**
 * @module work/sql: the engine of the SQLite store: one row per action's work in a table beside
 * the actions, written in the same transaction as the action, leased by a conditional UPDATE.
 * One instance per database (SQLite's writer is one process); several instances sharing
 * PostgreSQL use pg-boss instead. D1's engine (work/durable-object.ts) keeps the same table with
 * the same statements and jobs, and a Durable Object's alarm does the waking instead of a poll.
 */

import type { ActionRecord } from '../model.ts';
import { type SqlDriver, type SqlStatement, stmt } from '../store/sql-driver.ts';
import { decodeKey, encodeKey as key } from '../store/sql-encoding.ts';
import { poller } from './poller.ts';
import type { EngineFactory, LeasedJob, WorkEngine, WorkInfo } from './types.ts';

/** Ids per `inspect` statement: D1 binds at most 100 parameters. */
const INSPECT_CHUNK = 90;

export interface SqlWorkTables {
  /** The store's driver (its unavailable errors already 503s). */
  driver: SqlDriver;
  /** The store's table prefix. */
  prefix: string;
  /** The store's versioned update of an action. */
  update: (record: ActionRecord) => SqlStatement;
}

/**
 * The lease table's statements. `due_at` is when the row is next taken: for queued work when
 * it may run, for leased work when its lease runs out; so one index finds both.
 */
export function workQueries(p: string) {
  const work = `${p}work`;
  return {
    /** Queue the work of `r` if the update just before it in the batch stored `r`. */
    enqueue: (r: ActionRecord, now: number) =>
      stmt(
        // Work already queued or leased (a resume as an attempt ends) is marked to run again
        // rather than skipped: that attempt's end would otherwise delete the resumed work.
        `INSERT INTO ${work} (action_id, attempts, due_at) SELECT ?, 0, ? ` +
          // changes(): the UPDATE just before, in the same batch, stored `r` (the same version
          // number written by another writer would pass a version check; it is not ours).
          'WHERE changes() = 1 ' +
          `ON CONFLICT (action_id) DO UPDATE SET requeued = 1`,
        key(r.action_id),
        now,
      ),
    anyDue: (now: number) => stmt(`SELECT 1 AS due FROM ${work} WHERE due_at <= ? LIMIT 1`, now),
    /** When the longest-waiting due work became due: queued work's run time, or a lease that ran out. */
    oldestDue: (now: number) => stmt(`SELECT MIN(due_at) AS due_at FROM ${work} WHERE due_at <= ?`, now),
    /** Due work, earliest first (what a Cron Trigger wakes when its wake-up may have been lost). */
    due: (now: number, limit: number) =>
      stmt(`SELECT action_id FROM ${work} WHERE due_at <= ? ORDER BY due_at LIMIT ${limit}`, now),
    /** When the work of `id` is next taken, if it has any. */
    dueAt: (id: string) => stmt(`SELECT due_at FROM ${work} WHERE action_id = ?`, key(id)),
    /**
     * Lease the work of `id` if due, or if leased at all: for a host that is the only place
     * this action's work runs (its Durable Object), a lease it does not hold now is its previous life's.
     */
    takeOver: (id: string, owner: string, now: number, lease: number) =>
      stmt(
        `UPDATE ${work} SET lease_owner = ?, due_at = ?, attempts = attempts + 1, requeued = 0 ` +
          `WHERE action_id = ? AND (due_at <= ? OR lease_owner IS NOT NULL) RETURNING attempts`,
        owner,
        now + lease,
        key(id),
        now,
      ),
    claim: (owner: string, now: number, lease: number, limit: number) =>
      stmt(
        `UPDATE ${work} SET lease_owner = ?, due_at = ?, attempts = attempts + 1, requeued = 0 WHERE action_id IN ` +
          `(SELECT action_id FROM ${work} WHERE due_at <= ? ORDER BY due_at LIMIT ${limit}) RETURNING action_id, attempts`,
        owner,
        now + lease,
        now,
      ),
    renew: (id: string, owner: string, attempts: number, until: number) =>
      stmt(
        `UPDATE ${work} SET due_at = ? WHERE action_id = ? AND lease_owner = ? AND attempts = ?`,
        until,
        key(id),
        owner,
        attempts,
      ),
    /** The attempt's end: the row goes, unless it was queued again meanwhile (then it is due now, as new work). */
    complete: (id: string, owner: string, attempts: number, now: number) => [
      stmt(
        `UPDATE ${work} SET lease_owner = NULL, due_at = ?, requeued = 0, attempts = 0 ` +
          'WHERE action_id = ? AND lease_owner = ? AND attempts = ? AND requeued = 1',
        now,
        key(id),
        owner,
        attempts,
      ),
      stmt(
        `DELETE FROM ${work} WHERE action_id = ? AND lease_owner = ? AND attempts = ? AND requeued = 0`,
        key(id),
        owner,
        attempts,
      ),
    ],
    requeue: (id: string, owner: string, attempts: number, at: number, counted: boolean) =>
      stmt(
        `UPDATE ${work} SET lease_owner = NULL, due_at = ?, attempts = ? WHERE action_id = ? AND lease_owner = ? AND attempts = ?`,
        at,
        counted ? attempts : attempts - 1,
        key(id),
        owner,
        attempts,
      ),
    inspect: (ids: readonly string[]) =>
      stmt(
        `SELECT action_id, attempts, due_at, lease_owner FROM ${work} WHERE action_id IN (${ids.map(() => '?').join(', ')})`,
        ...ids.map(key),
      ),
    /** Work whose action is gone (released or expired), so the table cannot grow without its actions. */
    orphans: () => stmt(`DELETE FROM ${work} WHERE action_id NOT IN (SELECT action_id FROM ${p}actions)`),
  };
}

export type WorkQueries = ReturnType<typeof workQueries>;

/** The job of `actionId` at its `attempts`-th attempt, leased to `owner`: each call one conditional statement. */
export function leasedJob(
  db: SqlDriver,
  q: WorkQueries,
  { owner, lease, clock }: { owner: string; lease: number; clock: () => number },
  actionId: string,
  attempts: number,
): LeasedJob {
  const end = async (statements: SqlStatement | SqlStatement[]) => {
    await db.batch(Array.isArray(statements) ? statements : [statements]);
  };
  return {
    actionId,
    attempt: attempts,
    heartbeat: async () => (await db.batch([q.renew(actionId, owner, attempts, clock() + lease)]))[0]?.changes === 1,
    complete: () => end(q.complete(actionId, owner, attempts, clock())),
    retry: (delay) => end(q.requeue(actionId, owner, attempts, clock() + delay, true)),
    release: () => end(q.requeue(actionId, owner, attempts, clock(), false)),
  };
}

/** The operator view of the lease table's rows for `actionIds`. */
export async function inspectWork(
  db: SqlDriver,
  q: WorkQueries,
  actionIds: readonly string[],
): Promise<Map<string, WorkInfo>> {
  const found = new Map<string, WorkInfo>();
  for (let i = 0; i < actionIds.length; i += INSPECT_CHUNK) {
    const { rows } = await db.execute(q.inspect(actionIds.slice(i, i + INSPECT_CHUNK)));
    for (const row of rows) {
      const leaseHolder = row['lease_owner'] === null ? null : String(row['lease_owner']);
      const due = Number(row['due_at']);
      found.set(decodeKey(String(row['action_id'])), {
        state: leaseHolder === null ? 'queued' : 'running',
        attempts: Number(row['attempts']),
        runAt: leaseHolder === null ? due : null,
        leaseHolder,
        leaseExpires: leaseHolder === null ? null : due,
      });
    }
  }
  return found;
}

/** The engine's `lag`: how long the oldest due work has waited (its `due_at` is when it became due). */
export async function workLag(db: SqlDriver, q: WorkQueries, now: number): Promise<number> {
  const due = (await db.execute(q.oldestDue(now))).rows[0]?.['due_at'];
  return due === null || due === undefined ? 0 : Math.max(0, now - Number(due));
}

/** The engine over `tables`. */
export function sqlWorkEngine(tables: SqlWorkTables, name = 'sqlite'): EngineFactory {
  return (settings): WorkEngine => {
    const { driver: db, prefix, update } = tables;
    const q = workQueries(prefix);
    const { clock, owner, lease } = settings;
    const job = (actionId: string, attempts: number) => leasedJob(db, q, settings, actionId, attempts);
    const claims = poller({
      ...settings,
      name,
      async claim(free) {
        const now = clock();
        // A read first: idle polls never take SQLite's write lock.
        if ((await db.execute(q.anyDue(now))).rows.length === 0) return [];
        const [claimed] = await db.batch([q.claim(owner, now, lease, free)]);
        return (claimed?.rows ?? []).map((row) => ({
          job: job(decodeKey(String(row['action_id'])), Number(row['attempts'])),
        }));
      },
    });

    return {
      name,
      async schedule(record) {
        const [updated] = await db.batch([update(record), q.enqueue(record, clock())]);
        // One row at most; D1 also counts the principals rows a status change copies to.
        if ((updated?.changes ?? 0) === 0) return undefined;
        claims.poll();
        return record;
      },
      async start(handle) {
        await db.batch([q.orphans()]).catch(() => {});
        claims.start(handle);
      },
      stop: () => claims.stop(),
      inspect: (actionIds) => inspectWork(db, q, actionIds),
      lag: () => workLag(db, q, clock()),
    };
  };
}
