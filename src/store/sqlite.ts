/**
 * @module store/sqlite: the embedded durable store: actions in a SQLite file, no server to run.
 * It takes an open database from better-sqlite3 (Node), `bun:sqlite` (Bun) or `node:sqlite`
 * (Deno, Node >= 22.5): their synchronous `prepare().run/all` APIs are alike, so one driver
 * serves all three. `openSqliteStore(path)` picks the engine for the runtime it runs on.
 *
 * Why SQLite rather than PGlite (PostgreSQL in WASM), which could share the PostgreSQL
 * store's SQL: measured here (test/bench/stores.ts), SQLite serves status and run several
 * times faster and opens in milliseconds instead of seconds, and its SQL is the one Cloudflare
 * D1 speaks, so the embedded and Workers stores share theirs. See README, "Choosing a store".
 */
import { sqliteUnavailable } from './failures.ts';
import { opened, type SqlDriver, type SqlResult, type SqlStatement, type SqlStoreOptions, sqlStore } from './sql.ts';

export { schemaSql } from './sql.ts';

import { groupCommit, lockWaits } from './sqlite-commit.ts';
import { threadedSqliteDriver } from './sqlite-thread.ts';
import type { ActionStore } from './types.ts';

/** A prepared statement of any of the three engines. */
export interface SyncStatement {
  run(...params: unknown[]): { changes: number | bigint };
  all(...params: unknown[]): unknown[];
}

/** An open database of better-sqlite3, bun:sqlite or node:sqlite. */
export interface SyncSqliteDatabase {
  prepare(sql: string): SyncStatement;
  exec(sql: string): unknown;
  close(): unknown;
}

export interface SqliteStoreOptions extends SqlStoreOptions {
  /**
   * `full` (default) syncs every commit to disk, so an acknowledged action survives a power cut;
   * `normal` syncs at WAL checkpoints (survives a process crash, about twice as fast to write).
   */
  synchronous?: 'full' | 'normal';
  /** Close the database with the store. Default true. */
  closeDatabase?: boolean;
  /**
   * Bytes of the file its reads map into memory (`PRAGMA mmap_size`), so a status served from
   * a table far larger than SQLite's page cache costs no system call per page: measured here,
   * what keeps status as fast at a million actions as at ten thousand. Pages count in the
   * process's RSS as they are read, and the kernel reclaims them under pressure, as it does its
   * file cache. Default 2 GiB: the most better-sqlite3's and node:sqlite's SQLite map (a larger
   * value is capped to it, checked with `PRAGMA mmap_size`); 0 reads through system calls only. The cost: an I/O error while reading a
   * mapped page (a failing disk, the file truncated by another program) ends the process with
   * SIGBUS instead of a 503.
   */
  mmapSize?: number;
  /**
   * Milliseconds a write waits for another process's lock on the file before it is answered
   * 503. SQLite waits on the calling thread, so nothing else runs meanwhile: keep it short.
   * Default 1,000.
   */
  busyTimeout?: number;
  /**
   * `openSqliteStore` on Node: write on a worker thread of the store's own, so no request waits
   * while a commit syncs to disk (store/sqlite-thread.ts). Default true; reads stay on the
   * calling thread either way.
   */
  writerThread?: boolean;
  /**
   * `openSqliteStore` on Node: the SQLite library. Default `better-sqlite3` when it is installed,
   * else Node's built-in `node:sqlite` (Node >= 22.13; it prints an ExperimentalWarning once on
   * Node 22). Bun always uses `bun:sqlite` and Deno `node:sqlite`.
   */
  library?: 'better-sqlite3' | 'node:sqlite';
}

/** A computed specifier, so bundlers (e.g. for Workers) leave runtime-specific modules alone. */
const moduleName = (name: string): string => name;

const RETURNS_ROWS = /^\s*(SELECT|WITH)\b|\bRETURNING\b/i;

export interface SyncSqliteDriverOptions {
  /** Close the database with the store. Default true. */
  closeDatabase?: boolean;
  /** Milliseconds a write waits for another connection's lock. Default 1,000. */
  busyTimeout?: number;
}

/** A SqlDriver over a synchronous SQLite database. */
export function syncSqliteDriver(db: SyncSqliteDatabase, options: SyncSqliteDriverOptions = {}): SqlDriver {
  const { closeDatabase = true, busyTimeout = 1_000 } = options;
  const prepared = new Map<string, SyncStatement>();
  const statement = (sql: string) => {
    let found = prepared.get(sql);
    if (found === undefined) {
      found = db.prepare(sql);
      prepared.set(sql, found);
    }
    return found;
  };
  const runOne = ({ sql, params }: SqlStatement): SqlResult => {
    const prepared = statement(sql);
    if (RETURNS_ROWS.test(sql)) return { changes: 0, rows: prepared.all(...params) as Record<string, unknown>[] };
    return { changes: Number(prepared.run(...params).changes), rows: [] };
  };
  const writing = lockWaits(db, busyTimeout);
  const commits = groupCommit(db, (statements) => statements.map(runOne), writing);
  return {
    dialect: 'sqlite',
    unavailable: sqliteUnavailable,
    async execute(s) {
      // Only writes take the lock (WAL readers never wait for a writer).
      if (RETURNS_ROWS.test(s.sql)) return runOne(s);
      return (await commits.write([s]))[0] as SqlResult;
    },
    batch: (statements) => commits.write(statements),
    async close() {
      commits.flush(); // what is queued is written (or fails) before the database goes
      if (closeDatabase) db.close();
    },
  };
}

/**
 * A durable store in an open SQLite database.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * const store = await sqliteStore(new Database('actions.db'))
 * ```
 */
/** The options every SQLite store checks, with their defaults. */
function checked(options: SqliteStoreOptions): {
  synchronous: 'full' | 'normal';
  busyTimeout: number;
  mmapSize: number;
} {
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal')
    throw new TypeError("sqliteStore: synchronous must be 'full' or 'normal'");
  const busyTimeout = options.busyTimeout ?? 1_000;
  if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0 || busyTimeout > 2_147_483_647) {
    throw new TypeError('busyTimeout: must be a whole number of milliseconds from 0 to 2147483647');
  }
  const mmapSize = options.mmapSize ?? DEFAULT_MMAP_SIZE;
  if (!Number.isSafeInteger(mmapSize) || mmapSize < 0) {
    throw new TypeError('mmapSize: must be a whole number of bytes from 0');
  }
  return { synchronous, busyTimeout, mmapSize };
}

/** `SqliteStoreOptions.mmapSize`'s default. */
const DEFAULT_MMAP_SIZE = 2 ** 31;

export async function sqliteStore(db: SyncSqliteDatabase, options: SqliteStoreOptions = {}): Promise<ActionStore> {
  if (typeof db?.prepare !== 'function' || typeof db.exec !== 'function') {
    throw new TypeError('sqliteStore: expected an open better-sqlite3, bun:sqlite or node:sqlite database');
  }
  const { synchronous, busyTimeout, mmapSize } = checked(options);
  // The driver sets the busy timeout before anything else touches the file, so even switching
  // to WAL waits for a lock rather than failing at once.
  const driver = syncSqliteDriver(db, { closeDatabase: options.closeDatabase ?? true, busyTimeout });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${synchronous.toUpperCase()}`);
  db.exec(`PRAGMA mmap_size = ${mmapSize}`);
  return opened(sqlStore(driver, options), options);
}

/**
 * Open (or create) `path` with the runtime's SQLite: `bun:sqlite` on Bun, `node:sqlite` on
 * Deno, better-sqlite3 on Node when it is installed and `node:sqlite` otherwise (`library`).
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<ActionStore> {
  if (typeof path !== 'string' || path === '') throw new TypeError('openSqliteStore: path must be a file path');
  const runtime = globalThis as { Bun?: unknown; Deno?: unknown };
  let db: SyncSqliteDatabase;
  if (runtime.Bun !== undefined) {
    const { Database } = (await import(moduleName('bun:sqlite'))) as {
      Database: new (path: string) => SyncSqliteDatabase;
    };
    db = new Database(path);
  } else if (runtime.Deno !== undefined) {
    const { DatabaseSync } = (await import(moduleName('node:sqlite'))) as {
      DatabaseSync: new (path: string) => SyncSqliteDatabase;
    };
    db = new DatabaseSync(path);
  } else {
    const { library, module } = await nodeLibrary(options.library);
    db = new module(path);
    if ((options.writerThread ?? true) && path !== ':memory:' && !path.startsWith('file:')) {
      return threadedStore(db, path, library, options);
    }
  }
  return sqliteStore(db, options);
}

type NodeLibrary = NonNullable<SqliteStoreOptions['library']>;
type Opener = new (path: string) => SyncSqliteDatabase;

/**
 * The SQLite library to use on Node: the one asked for, else better-sqlite3 when it is
 * installed (the faster of the two here), else the built-in node:sqlite, so a provider needs
 * no native module to start.
 */
async function nodeLibrary(wanted: NodeLibrary | undefined): Promise<{ library: NodeLibrary; module: Opener }> {
  if (wanted !== undefined && wanted !== 'better-sqlite3' && wanted !== 'node:sqlite') {
    throw new TypeError("openSqliteStore: library must be 'better-sqlite3' or 'node:sqlite'");
  }
  const builtIn = async (): Promise<Opener | undefined> => {
    try {
      return ((await import(moduleName('node:sqlite'))) as { DatabaseSync: Opener }).DatabaseSync;
    } catch {
      return undefined; // Node < 22.5
    }
  };
  if (wanted === 'node:sqlite') {
    const module = await builtIn();
    if (module === undefined) throw new Error('openSqliteStore: node:sqlite needs Node 22.13 or newer');
    return { library: wanted, module };
  }
  try {
    const module = ((await import(moduleName('better-sqlite3'))) as { default: Opener }).default;
    return { library: 'better-sqlite3', module };
  } catch (cause) {
    const notInstalled = (cause as { code?: unknown })?.code === 'ERR_MODULE_NOT_FOUND';
    const module = wanted === undefined && notInstalled ? await builtIn() : undefined;
    if (module !== undefined) return { library: 'node:sqlite', module };
    throw new Error(
      notInstalled
        ? 'openSqliteStore: install better-sqlite3 (npm install better-sqlite3), or use Node 22.13+ for node:sqlite'
        : 'openSqliteStore: better-sqlite3 is installed but does not load (built for another Node?)',
      { cause },
    );
  }
}

/** The store on `path` with its writes on a worker thread; `db` (the caller's thread) serves reads. */
async function threadedStore(
  db: SyncSqliteDatabase,
  path: string,
  library: NodeLibrary,
  options: SqliteStoreOptions,
): Promise<ActionStore> {
  let driver: SqlDriver;
  try {
    const { synchronous, busyTimeout, mmapSize } = checked(options);
    db.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
    db.exec(`PRAGMA mmap_size = ${mmapSize}`); // this connection serves the reads
    db.exec('PRAGMA journal_mode = WAL'); // the file's mode: the writer's connection has it too
    driver = await threadedSqliteDriver(path, {
      library,
      busyTimeout,
      synchronous,
      reads: db,
      unavailable: sqliteUnavailable,
    });
  } catch (error) {
    db.close();
    throw error;
  }
  try {
    return await opened(sqlStore(driver, options), options);
  } catch (error) {
    await driver.close?.(); // the thread and the read connection go with the failed store
    throw error;
  }
}
