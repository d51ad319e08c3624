/**
 * @module store/sqlite-thread: SQLite with its writes on a thread of their own (Node,
 * better-sqlite3 or node:sqlite). A durable COMMIT waits for the disk (an fsync, about 1-2 ms); on the one
 * JavaScript thread every request waits with it. Here a worker thread holds the writing
 * connection and group-commits what arrives while it syncs, and reads stay on the main thread
 * on a connection of their own (WAL readers never wait for a writer, and what they see is
 * committed: at `synchronous=FULL` synced too, except a run's placeholder, which run never
 * hands to a client as an answer).
 *
 * The worker's code is the string below, started with `eval: true`, rather than a module file:
 * a file next to this one would be missing from any bundle of a provider (esbuild, say), while
 * a string travels with it. It is never built from input.
 */
import type { SqlDriver, SqlResult, SqlStatement } from './sql-driver.ts';

/** What the worker answers for one write: its results, or the error that failed it. */
type Answer = { id: number; results: SqlResult[] } | { id: number; error: SerializedError };
interface SerializedError {
  name: string;
  message: string;
  code?: unknown;
  errcode?: unknown;
}

/**
 * The writer thread (CommonJS, as `eval` workers are). Group commit: the writes that arrived
 * while it was busy share one transaction and one sync, each in a savepoint (one that fails is
 * rolled back alone), each answered only after the shared COMMIT. Writes marked not `durable`
 * (a run's placeholder) go first, in a transaction at synchronous=NORMAL that does not wait for
 * the disk, so a run waits for one sync (its answer's) instead of two. A failed BEGIN or COMMIT (or
 * SQLite rolling the transaction back by itself) fails every write of the group. Lock waits are
 * cut short while a lock stays taken, as on the main thread (sqlite.ts `lockWaits`).
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const Database = workerData.library === 'node:sqlite' ? require('node:sqlite').DatabaseSync : require(workerData.module);
const db = new Database(workerData.file);
const RETURNS_ROWS = /^\s*(SELECT|WITH)\b|\bRETURNING\b/i;
const setWait = (ms) => db.exec('PRAGMA busy_timeout = ' + ms);
setWait(workerData.busyTimeout);
const prepared = new Map();
const statement = (sql) => {
  let found = prepared.get(sql);
  if (found === undefined) { found = db.prepare(sql); prepared.set(sql, found); }
  return found;
};
const runOne = ({ sql, params }) => RETURNS_ROWS.test(sql)
  ? { changes: 0, rows: statement(sql).all(...params) }
  : { changes: Number(statement(sql).run(...params).changes), rows: [] };
const serialized = (error) => ({ name: String(error && error.name), message: String(error && error.message), code: error && error.code, errcode: error && error.errcode });
const isBusy = (error) => (typeof (error && error.code) === 'string' && error.code.startsWith('SQLITE_BUSY')) || (typeof (error && error.errcode) === 'number' && (error.errcode & 0xff) === 5);
let waitedInVain = false;
const rollback = () => { try { db.exec('ROLLBACK'); } catch {} };
const alone = (write) => {
  db.exec('SAVEPOINT write');
  try {
    const results = write.statements.map(runOne);
    db.exec('RELEASE write');
    return { id: write.id, results };
  } catch (error) {
    try { db.exec('ROLLBACK TO write'); db.exec('RELEASE write'); } catch { throw error; }
    return { id: write.id, error: serialized(error) };
  }
};
const commit = (group, synchronous) => {
  if (group.length === 0) return;
  let answers;
  try {
    db.exec('PRAGMA synchronous = ' + synchronous);
    db.exec('BEGIN IMMEDIATE');
    try {
      answers = group.map(alone);
      db.exec('COMMIT');
    } catch (error) { rollback(); throw error; }
    if (waitedInVain) setWait(workerData.busyTimeout);
    waitedInVain = false;
  } catch (error) {
    if (!waitedInVain && isBusy(error)) { waitedInVain = true; setWait(0); }
    const failure = serialized(error);
    answers = group.map((write) => ({ id: write.id, error: failure }));
  }
  parentPort.postMessage(answers);
};
let queue = [];
const flush = () => {
  const group = queue;
  queue = [];
  // Writes that need not be synced first, in a transaction of their own that does not wait
  // for the disk, and answered at once; then the rest, synced as configured. A later sync of
  // the WAL covers the frames of the first transaction too.
  commit(group.filter((write) => !write.durable), 'NORMAL');
  commit(group.filter((write) => write.durable), workerData.synchronous);
};
parentPort.on('message', (message) => {
  if (message.close) { flush(); db.close(); parentPort.postMessage('closed'); return; }
  if (queue.push(message) === 1) setImmediate(flush);
});
parentPort.postMessage('ready');
`;

/** A synchronous SQLite connection for reads (better-sqlite3's Database). */
interface ReadConnection {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
  close(): unknown;
}

export interface ThreadedSqliteOptions {
  /** The library the thread opens the file with. Default better-sqlite3. */
  library?: 'better-sqlite3' | 'node:sqlite';
  /** Milliseconds a write waits for another connection's lock. */
  busyTimeout: number;
  synchronous: 'full' | 'normal';
  /** Reads, on the calling thread. */
  reads: ReadConnection;
  /** Whether an error means the database is unavailable (sqlite.ts's test). */
  unavailable: NonNullable<SqlDriver['unavailable']>;
}

/** An error from the writer thread as the driver throws it: same name, message and codes. */
function revived(error: SerializedError): Error {
  const revivedError = new Error(error.message) as Error & { code?: unknown; errcode?: unknown };
  revivedError.name = error.name;
  if (error.code !== undefined) revivedError.code = error.code;
  if (error.errcode !== undefined) revivedError.errcode = error.errcode;
  return revivedError;
}

/**
 * A SqlDriver for the SQLite file `file` whose writes run on a worker thread (better-sqlite3,
 * resolved from here). Resolves once the thread has opened the file.
 */
export async function threadedSqliteDriver(file: string, options: ThreadedSqliteOptions): Promise<SqlDriver> {
  const [{ Worker }, { createRequire }] = await Promise.all([import('node:worker_threads'), import('node:module')]);
  const module =
    options.library === 'node:sqlite' ? 'node:sqlite' : createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      module,
      library: options.library,
      busyTimeout: options.busyTimeout,
      synchronous: options.synchronous.toUpperCase(),
    },
  });
  const pending = new Map<number, { resolve(results: SqlResult[]): void; reject(error: unknown): void }>();
  let next = 0;
  let gone: Error | undefined;
  let closed: (() => void) | undefined;
  const failAll = (error: Error) => {
    gone = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.on('message', (message: Answer[] | 'closed') => {
    if (message === 'closed') return closed?.();
    for (const answer of message) {
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      if ('error' in answer) waiting?.reject(revived(answer.error));
      else waiting?.resolve(answer.results);
    }
    if (pending.size === 0) worker.unref();
  });
  worker.on('error', (error) =>
    failAll(Object.assign(new Error('SQLite writer thread failed', { cause: error }), { code: 'SQLITE_IOERR' })),
  );
  worker.on('exit', () => {
    // Whatever it had not answered fails (its code makes that a 503), and a close() waiting for it ends.
    failAll(gone ?? Object.assign(new Error('SQLite writer thread exited'), { code: 'SQLITE_IOERR' }));
    closed?.();
  });
  // The thread keeps the process alive only while a write waits for it: a provider process
  // that ends without closing its store is not held open by an idle writer.
  worker.unref();

  const write = (statements: readonly SqlStatement[], durable = true) =>
    new Promise<SqlResult[]>((resolve, reject) => {
      if (gone !== undefined) return reject(gone);
      const id = next++;
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, durable, statements: statements.map(({ sql, params }) => ({ sql, params })) });
    });
  const prepared = new Map<string, { all(...params: unknown[]): unknown[] }>();
  const read = ({ sql, params }: SqlStatement): SqlResult => {
    let found = prepared.get(sql);
    if (found === undefined) {
      found = options.reads.prepare(sql);
      prepared.set(sql, found);
    }
    return { changes: 0, rows: found.all(...params) as Record<string, unknown>[] };
  };
  return {
    dialect: 'sqlite',
    unavailable: options.unavailable,
    async execute(statement) {
      // A plain SELECT reads here; anything that writes (RETURNING included) goes to the writer.
      if (/^\s*(SELECT|WITH)\b/i.test(statement.sql)) return read(statement);
      return (await write([statement]))[0] as SqlResult;
    },
    batch: (statements, options) => write(statements, options?.durable ?? true),
    async close() {
      if (gone === undefined) {
        gone = new Error('the store is closed'); // writes from now on are refused at once
        // What was sent before is written (or fails) before the thread and the file go.
        const done = new Promise<void>((resolve) => {
          closed = resolve;
        });
        // Referenced until it answers: a program whose last step is `await store.close()` would
        // otherwise end with nothing keeping it alive, its close unsettled.
        worker.ref();
        worker.postMessage({ close: true });
        await done;
      }
      await worker.terminate();
      options.reads.close();
    },
  };
}
