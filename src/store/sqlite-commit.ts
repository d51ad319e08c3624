/**
 * @module store/sqlite-commit: how the SQLite driver writes on the calling thread: group commit
 * (the writes of one turn of the event loop share a transaction and a sync) and waits for
 * another process's lock that are cut short while it stays taken.
 */
import type { SqlResult, SqlStatement } from './sql-driver.ts';

/** All this needs of a database: running SQL without results. */
interface ExecDatabase {
  exec(sql: string): unknown;
}

/**
 * Waiting for another process's write lock, cut short while it stays taken: SQLite waits on the
 * thread every request shares, so with the lock held for good each write would stall the others
 * for the whole timeout in turn, a queue that only grows. Once a write has waited in vain, the
 * next ones try once without waiting (and fail fast) until one gets the lock.
 */
export function lockWaits(db: ExecDatabase, busyTimeout: number): <T>(write: () => T) => T {
  let waitedInVain = false;
  const setWait = (ms: number) => db.exec(`PRAGMA busy_timeout = ${ms}`);
  setWait(busyTimeout);
  return (write) => {
    try {
      const result = write();
      if (waitedInVain) setWait(busyTimeout);
      waitedInVain = false;
      return result;
    } catch (error) {
      if (!waitedInVain && isBusy(error)) {
        waitedInVain = true;
        setWait(0);
      }
      throw error;
    }
  };
}

/** SQLITE_BUSY (5) from better-sqlite3 and bun:sqlite (`code`) or node:sqlite (`errcode`). */
function isBusy(error: unknown): boolean {
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return (
    (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) ||
    (typeof errcode === 'number' && (errcode & 0xff) === 5)
  );
}

interface Queued {
  statements: readonly SqlStatement[];
  resolve(results: SqlResult[]): void;
  reject(error: unknown): void;
}

/** What runs after the I/O callbacks of this turn of the event loop (setImmediate where there is one). */
const afterThisTurn: (run: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (run) => void setImmediate(run) : (run) => void setTimeout(run, 0);

/**
 * Group commit: the writes requested during one turn of the event loop share one transaction,
 * so one sync to disk (at `synchronous=FULL`, what a commit costs) serves all of them. Each
 * write is a savepoint of its own, so one that fails (a constraint) is rolled back alone; each
 * is resolved only once the shared COMMIT returned, so nothing is acknowledged before it is on
 * disk. If the transaction itself fails (BEGIN busy, COMMIT on a full disk, or SQLite rolled it
 * back by itself), every write of the group fails with that error: none was acknowledged.
 */
export function groupCommit(
  db: ExecDatabase,
  run: (statements: readonly SqlStatement[]) => SqlResult[],
  writing: <T>(write: () => T) => T,
): { write(statements: readonly SqlStatement[]): Promise<SqlResult[]>; flush(): void } {
  let queue: Queued[] = [];
  const flush = () => {
    const group = queue;
    if (group.length === 0) return;
    queue = [];
    let outcomes: ({ results: SqlResult[] } | { error: unknown })[];
    try {
      // Synchronous from BEGIN to COMMIT: nothing else runs on this thread in between.
      outcomes = writing(() => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const done = group.length === 1 ? [{ results: run((group[0] as Queued).statements) }] : group.map(alone);
          db.exec('COMMIT');
          return done;
        } catch (error) {
          rollback(db);
          throw error;
        }
      });
    } catch (error) {
      for (const write of group) write.reject(error);
      return;
    }
    group.forEach((write, i) => {
      const outcome = outcomes[i] as { results: SqlResult[] } | { error: unknown };
      if ('error' in outcome) write.reject(outcome.error);
      else write.resolve(outcome.results);
    });
  };
  /** One write of a group, in a savepoint; a failure to roll it back fails the whole group. */
  const alone = ({ statements }: Queued): { results: SqlResult[] } | { error: unknown } => {
    db.exec('SAVEPOINT write');
    try {
      const results = run(statements);
      db.exec('RELEASE write');
      return { results };
    } catch (error) {
      try {
        db.exec('ROLLBACK TO write');
        db.exec('RELEASE write');
      } catch {
        // SQLite rolled the whole transaction back by itself (SQLITE_FULL, IOERR): the group
        // fails, with the error that caused it rather than ROLLBACK's "no such savepoint".
        throw error;
      }
      return { error };
    }
  };
  return {
    write: (statements) =>
      new Promise((resolve, reject) => {
        if (queue.push({ statements, resolve, reject }) === 1) afterThisTurn(flush);
      }),
    flush,
  };
}

/**
 * End a failed transaction. SQLite rolls back by itself on some errors (SQLITE_FULL, IOERR,
 * NOMEM: https://www.sqlite.org/lang_transaction.html), and ROLLBACK then fails with "no
 * transaction is active"; "no harm is caused by this", and the error worth reporting is the
 * one that failed the transaction, so this one is dropped.
 */
function rollback(db: ExecDatabase): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // See above: the transaction is already gone.
  }
}
