/**
 * @module test/stores: the store contract against every store: memory, embedded SQLite
 * (better-sqlite3), PostgreSQL (a real server) and Cloudflare D1 (inside workerd, through
 * miniflare); plus what is particular to each.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { memoryStore } from '../src/index.ts';
import { d1Store } from '../src/store/d1.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { openSqliteStore, schemaSql, sqliteStore } from '../src/store/sqlite.ts';
import { sharedD1 } from './support/d1.ts';
import { storeContract } from './support/store-contract.ts';
import { record } from './support/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'gap-stores-'));
const cleanup: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const prefix = () => `t${crypto.randomUUID().slice(0, 8)}_`;

storeContract('memoryStore', async () => memoryStore());
storeContract('sqliteStore (better-sqlite3)', async () =>
  sqliteStore(new Database(join(dir, `${crypto.randomUUID()}.db`))),
);
storeContract('openSqliteStore (better-sqlite3, writes on a worker thread)', async () =>
  openSqliteStore(join(dir, `${crypto.randomUUID()}.db`)),
);
storeContract('openSqliteStore (node:sqlite, writes on a worker thread)', async () =>
  openSqliteStore(join(dir, `${crypto.randomUUID()}.db`), { library: 'node:sqlite' }),
);
storeContract('openSqliteStore (node:sqlite, one thread)', async () =>
  openSqliteStore(join(dir, `${crypto.randomUUID()}.db`), { library: 'node:sqlite', writerThread: false }),
);
storeContract('postgresStore', async () =>
  postgresStore({ url: inject('databaseUrl'), tablePrefix: prefix(), max: 4 }),
);

const d1 = sharedD1(cleanup);
storeContract('d1Store (D1 in workerd via miniflare)', async () => d1Store(await d1(), { tablePrefix: prefix() }));

describe('sqliteStore', () => {
  it('keeps actions across close and reopen of the file', async () => {
    const path = join(dir, 'reopen.db');
    const first = await openSqliteStore(path);
    const r = record();
    await first.create(r);
    await first.close?.();
    const second = await openSqliteStore(path);
    expect(await second.get(r.action_id)).toEqual(r);
    await second.close?.();
  });
  it('reads with one library what the other wrote (the same file format)', async () => {
    const path = join(dir, 'both.db');
    const first = await openSqliteStore(path, { library: 'node:sqlite' });
    const r = record();
    await first.create(r);
    await first.close?.();
    const second = await openSqliteStore(path, { library: 'better-sqlite3' });
    expect(await second.get(r.action_id)).toEqual(r);
    await second.close?.();
  });
  it('refuses a library it does not know', async () => {
    await expect(openSqliteStore(join(dir, 'x.db'), { library: 'sqlite3' as never })).rejects.toThrow(
      /library must be 'better-sqlite3' or 'node:sqlite'/,
    );
  });
  it('rejects what is not a database, and a bad synchronous mode', async () => {
    await expect(sqliteStore({} as never)).rejects.toThrow(TypeError);
    await expect(sqliteStore(new Database(':memory:'), { synchronous: 'off' as never })).rejects.toThrow(/synchronous/);
  });
});

describe('postgresStore', () => {
  it('records its schema version and migrates once, even when instances race', async () => {
    const tablePrefix = prefix();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 2 })),
    );
    const sql = postgres(inject('databaseUrl'), { max: 1 });
    const versions = await sql.unsafe(`SELECT version FROM ${tablePrefix}schema_migrations`);
    expect(versions.map((v) => v['version'])).toEqual([1, 2]);
    const indexes = await sql.unsafe(
      `SELECT indexname FROM pg_indexes WHERE tablename = '${tablePrefix}actions' ORDER BY indexname`,
    );
    expect(indexes.map((i) => i['indexname'])).toEqual(
      expect.arrayContaining([
        `${tablePrefix}actions_creator`,
        `${tablePrefix}actions_expiry`,
        `${tablePrefix}actions_order`,
        `${tablePrefix}actions_request`,
        `${tablePrefix}actions_status`,
      ]),
    );
    const column = await sql.unsafe(
      `SELECT data_type FROM information_schema.columns WHERE table_name = '${tablePrefix}actions' AND column_name = 'record'`,
    );
    expect(column[0]?.['data_type']).toBe('jsonb');
    await sql.end();
    await Promise.all(stores.map((s) => s.close?.()));
  });
  it('stores each action as a JSONB object whose details can be queried', async () => {
    const tablePrefix = prefix();
    const store = await postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 2 });
    const r = record({ details: { text: 'naïve ☃', n: 3 } });
    await store.create(r);
    await store.update({ ...r, status: 'SUCCEEDED', details: { text: 'done', n: 4 }, version: 2 });
    const sql = postgres(inject('databaseUrl'), { max: 1 });
    const rows = await sql.unsafe(
      `SELECT jsonb_typeof(record) AS kind, record->'details'->>'text' AS text, (record->'details'->>'n')::int AS n FROM ${tablePrefix}actions`,
    );
    expect(rows.map((row) => ({ ...row }))).toEqual([{ kind: 'object', text: 'done', n: 4 }]);
    expect((await store.get(r.action_id))?.details).toEqual({ text: 'done', n: 4 });
    await sql.end();
    await store.close?.();
  });

  it('takes an existing client and leaves it open', async () => {
    const sql = postgres(inject('databaseUrl'), { max: 2 });
    const store = await postgresStore({ sql: sql as never, tablePrefix: prefix() });
    const r = record();
    await store.create(r);
    await store.close?.();
    expect((await sql`SELECT 1 AS one`)[0]?.['one']).toBe(1);
    await sql.end();
  });
  it('needs exactly one of url and sql', async () => {
    await expect(postgresStore({})).rejects.toThrow(TypeError);
  });
});

describe('migrate: false and schemaSql()', () => {
  it('opens without DDL, fails on use until the tables exist, then works once schemaSql() made them', async () => {
    const tablePrefix = prefix();
    const sql = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
    try {
      const store = await postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 2, migrate: false });
      await expect(store.get('x')).rejects.toThrow(/does not exist/);
      for (const statement of schemaSql('postgres', { tablePrefix })) await sql.unsafe(statement);
      const r = record();
      await store.create(r);
      expect(await store.get(r.action_id)).toEqual(r);
      await store.close?.();
      // A store that does migrate finds the version schemaSql() recorded: nothing to do.
      const migrating = await postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 2 });
      expect(await migrating.get(r.action_id)).toEqual(r);
      await migrating.close?.();
    } finally {
      await sql.end();
    }
  });

  it('does the same on SQLite, whose schemaSql() runs as it is', async () => {
    const db = new Database(join(dir, `${crypto.randomUUID()}.db`));
    const store = await sqliteStore(db, { migrate: false, closeDatabase: false });
    await expect(store.get('x')).rejects.toThrow(/no such table/);
    for (const statement of schemaSql('sqlite')) db.exec(statement);
    const r = record();
    await store.create(r);
    expect(await store.get(r.action_id)).toEqual(r);
    expect(db.prepare('SELECT version FROM gap_schema_migrations').all()).toEqual([{ version: 1 }, { version: 2 }]);
    db.close();
  });

  it('refuses a migrate option that is not a boolean, and a bad table prefix', async () => {
    await expect(sqliteStore(new Database(':memory:'), { migrate: 'no' as never })).rejects.toThrow(/^migrate: /);
    expect(() => schemaSql('sqlite', { tablePrefix: 'x; DROP' })).toThrow(/^tablePrefix: /);
  });
});
