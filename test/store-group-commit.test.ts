/**
 * @module test/store-group-commit: the SQLite drivers' group commit, on the calling thread and
 * on the writer thread. Writes asked for together share one transaction (one COMMIT, one sync),
 * each is acknowledged only after that COMMIT, one that fails is rolled back alone, a failed
 * COMMIT fails them all (and leaves nothing behind), and close() writes what is queued before the
 * database goes. The writer thread's reads see every acknowledged write, and its death is a 503.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteUnavailable } from '../src/store/failures.ts';
import { stmt } from '../src/store/sql-driver.ts';
import { openSqliteStore, type SyncSqliteDatabase, sqliteStore, syncSqliteDriver } from '../src/store/sqlite.ts';
import { threadedSqliteDriver } from '../src/store/sqlite-thread.ts';
import { mint, USERS } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { inProcessClient } from './support/transports.ts';

/** A better-sqlite3 database that counts its COMMITs and can be told to fail the next one. */
function countingDatabase() {
  const db = new Database(':memory:');
  const state = { commits: 0, failNextCommit: false };
  const counted: SyncSqliteDatabase = {
    prepare: (sql) => db.prepare(sql),
    exec(sql) {
      if (sql === 'COMMIT') {
        if (state.failNextCommit) {
          state.failNextCommit = false;
          throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        }
        state.commits++;
      }
      return db.exec(sql);
    },
    close: () => db.close(),
  };
  return { db, counted, state };
}

const count = (db: Database.Database) => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

describe('SQLite group commit', () => {
  it('commits 200 writes asked for at once in one transaction, each acknowledged after the COMMIT', async () => {
    const { db, counted, state } = countingDatabase();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const driver = syncSqliteDriver(counted);
    const commitsWhenAcknowledged: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        driver
          .batch([stmt('INSERT INTO t (id) VALUES (?)', i)])
          .then(() => commitsWhenAcknowledged.push(state.commits)),
      ),
    );
    expect(state.commits).toBe(1);
    expect(new Set(commitsWhenAcknowledged)).toEqual(new Set([1]));
    expect(count(db)).toBe(200);
  });

  it('rolls back a write that fails alone: the others of its group are committed', async () => {
    const { db, counted } = countingDatabase();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    db.exec('INSERT INTO t (id) VALUES (1)');
    const driver = syncSqliteDriver(counted);
    const outcomes = await Promise.allSettled([
      driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 2)]),
      // Its first statement succeeds, its second violates the key: the whole batch is undone.
      driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 3), stmt('INSERT INTO t (id) VALUES (?)', 1)]),
      driver.execute(stmt('INSERT INTO t (id) VALUES (?)', 4)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(db.prepare('SELECT id FROM t ORDER BY id').all()).toEqual([{ id: 1 }, { id: 2 }, { id: 4 }]);
  });

  it('fails every write of a group whose COMMIT fails, leaves none of them, and writes again after', async () => {
    const { db, counted, state } = countingDatabase();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const driver = syncSqliteDriver(counted);
    state.failNextCommit = true;
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((id) => driver.batch([stmt('INSERT INTO t (id) VALUES (?)', id)])),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_FULL' });
    expect(db.inTransaction).toBe(false);
    expect(count(db)).toBe(0);
    await driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 9)]);
    expect(count(db)).toBe(1);
  });

  it('writes what is queued when the store is closed', async () => {
    const { db, counted } = countingDatabase();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const driver = syncSqliteDriver(counted, { closeDatabase: false });
    const pending = driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 1)]);
    await driver.close?.();
    await pending;
    expect(count(db)).toBe(1);
  });

  it('serves 100 concurrent runs of a provider with a handful of commits, every action readable after', async () => {
    const { counted, state } = countingDatabase();
    const store = await sqliteStore(counted);
    const before = state.commits;
    const client = inProcessClient(testProvider({ store }), { token: await mint(USERS.creator) });
    const runs = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.run({ request_id: `r${i}`, body: {} })),
    );
    expect(runs.map((r) => r.status)).toEqual(Array(100).fill(202));
    // Each run writes twice (its placeholder, then its result); alone, that would be 200 commits.
    expect(state.commits - before).toBeLessThan(20);
    for (const run of runs) expect((await client.status(run.body.action_id)).status).toBe(200);
  });
});

describe('SQLite writes on a worker thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gap-thread-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const threaded = async () => {
    const file = join(dir, `${crypto.randomUUID()}.db`);
    const setup = new Database(file);
    setup.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY)');
    setup.close();
    const reads = new Database(file);
    const driver = await threadedSqliteDriver(file, {
      busyTimeout: 1_000,
      synchronous: 'full',
      reads,
      unavailable: sqliteUnavailable,
    });
    const ids = async () => (await driver.execute(stmt('SELECT id FROM t ORDER BY id'))).rows.map((row) => row['id']);
    return { driver, ids };
  };

  it('commits concurrent writes, rolls back a failing one alone, and reads every acknowledged write', async () => {
    const { driver, ids } = await threaded();
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => driver.batch([stmt('INSERT INTO t (id) VALUES (?)', i + 1)])),
      driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 100), stmt('INSERT INTO t (id) VALUES (?)', 1)]),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(50);
    const failed = outcomes.at(-1) as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(Error);
    expect(failed.reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await ids()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await driver.close?.();
  });

  it('writes what is queued when closed, then refuses writes', async () => {
    const { driver } = await threaded();
    const pending = driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 7)]);
    await driver.close?.();
    await expect(pending).resolves.toHaveLength(1);
    await expect(driver.batch([stmt('INSERT INTO t (id) VALUES (?)', 8)])).rejects.toThrow(/closed/);
  });

  it('serves 100 concurrent runs of a provider, every action readable at once and after a reopen', async () => {
    const file = join(dir, 'provider.db');
    const store = await openSqliteStore(file);
    const client = inProcessClient(testProvider({ store }), { token: await mint(USERS.creator) });
    const runs = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.run({ request_id: `r${i}`, body: {} })),
    );
    expect(runs.map((r) => r.status)).toEqual(Array(100).fill(202));
    for (const run of runs) expect((await client.status(run.body.action_id)).status).toBe(200);
    await store.close?.();
    const reopened = await openSqliteStore(file);
    const again = inProcessClient(testProvider({ store: reopened }), { token: await mint(USERS.creator) });
    for (const run of runs) expect((await again.status(run.body.action_id)).body).toEqual(run.body);
    await reopened.close?.();
  });
});
