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
import { type ActionRecord, type ActionStore, memoryStore } from '../src/index.ts';
import { d1Store } from '../src/store/d1.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { openSqliteStore, schemaSql, sqliteStore } from '../src/store/sqlite.ts';
import { sharedD1 } from './support/d1.ts';
import { storeContract } from './support/store-contract.ts';
import { group, record, who } from './support/stores.ts';

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
    expect(versions.map((v) => v['version'])).toEqual([1, 2, 3]);
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
    const ordered = await sql.unsafe(`SELECT indexname FROM pg_indexes WHERE tablename = '${tablePrefix}principals'`);
    expect(ordered.map((i) => i['indexname'])).toContain(`${tablePrefix}principals_order`);
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
    expect(db.prepare('SELECT version FROM gap_schema_migrations').all()).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
    ]);
    db.close();
  });

  it('refuses a migrate option that is not a boolean, and a bad table prefix', async () => {
    await expect(sqliteStore(new Database(':memory:'), { migrate: 'no' as never })).rejects.toThrow(/^migrate: /);
    expect(() => schemaSql('sqlite', { tablePrefix: 'x; DROP' })).toThrow(/^tablePrefix: /);
  });
});

/**
 * Schema version 3 (enumerate's ordered principals) on a database at version 2 holding actions:
 * the migration fills in what the pages need, and the triggers keep it right for writers that
 * know nothing of it (an instance still on version 2 during a rolling upgrade, SQL by hand).
 */
describe('schema version 3 over a version 2 database', () => {
  /** Statements of schemaSql() up to and including version 2's. */
  const upToV2 = (dialect: 'sqlite' | 'postgres', tablePrefix: string) => {
    const all = schemaSql(dialect, { tablePrefix });
    return all.slice(0, all.findIndex((s) => s.includes('VALUES (2, CURRENT_TIMESTAMP)')) + 1);
  };
  /** What a version 2 store wrote for `r`: the action, and its monitor/manage rows without status or start time. */
  const oldWrites = (p: string, r: ActionRecord, cast: string): [string, unknown[]][] => [
    [
      `INSERT INTO ${p}actions (action_id, creator_id, request_id, status, start_time, expires_at, version, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?${cast})`,
      [r.action_id, r.creator_id, r.request_id, r.status, r.start_time, r.expires_at, r.version, JSON.stringify(r)],
    ],
    ...r.monitor_by.map((m): [string, unknown[]] => [
      `INSERT INTO ${p}principals (principal, role, action_id) VALUES (?, 'monitor', ?)`,
      [m, r.action_id],
    ]),
  ];
  const listIds = async (store: ActionStore, q: Partial<Parameters<ActionStore['list']>[0]>) =>
    (await store.list({ statuses: ['ACTIVE'], limit: 10, now: Date.now(), ...q })).actions.map((a) => a.action_id);

  async function check(
    run: (sql: string, params: unknown[]) => Promise<unknown>,
    open: () => Promise<ActionStore>,
    p: string,
    cast: string,
  ) {
    const before = [record({ creator_id: who(80) }), record({ creator_id: who(81), monitor_by: [who(81), group(80)] })];
    for (const r of before) for (const [sql, params] of oldWrites(p, r, cast)) await run(sql, params);
    const store = await open();
    try {
      // Migrated: the old rows are ordered and the creators are principals.
      expect(await listIds(store, { creator_id: [who(80), who(81)] })).toEqual([
        before[1]?.action_id,
        before[0]?.action_id,
      ]);
      expect(await listIds(store, { monitor_by: [group(80)] })).toEqual([before[1]?.action_id]);
      // An old writer after the migration: its action and rows, then its status change by hand.
      const late = record({ creator_id: who(80), monitor_by: [group(80)] });
      for (const [sql, params] of oldWrites(p, late, cast)) await run(sql, params);
      expect(await listIds(store, { creator_id: [who(80)] })).toEqual([late.action_id, before[0]?.action_id]);
      expect(await listIds(store, { monitor_by: [group(80)] })).toEqual([late.action_id, before[1]?.action_id]);
      await run(`UPDATE ${p}actions SET status = 'SUCCEEDED' WHERE action_id = ?`, [late.action_id]);
      expect(await listIds(store, { creator_id: [who(80)] })).toEqual([before[0]?.action_id]);
      expect(await listIds(store, { statuses: ['SUCCEEDED'], monitor_by: [group(80)] })).toEqual([late.action_id]);
    } finally {
      await store.close?.();
    }
  }

  it('on SQLite', async () => {
    const path = join(dir, `${crypto.randomUUID()}.db`);
    const db = new Database(path);
    for (const statement of upToV2('sqlite', 'gap_')) db.exec(statement);
    await check(
      async (sql, params) => db.prepare(sql).run(...params),
      () => sqliteStore(db, { closeDatabase: false }),
      'gap_',
      '',
    );
    expect(db.prepare('SELECT max(version) AS v FROM gap_schema_migrations').get()).toEqual({ v: 3 });
    db.close();
  });

  it('on PostgreSQL, and two instances migrating at once', async () => {
    const tablePrefix = prefix();
    const sql = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
    try {
      for (const statement of upToV2('postgres', tablePrefix)) await sql.unsafe(statement);
      let n = 0;
      await check(
        (text, params) =>
          sql
            .unsafe(
              text.replace(/\?/g, () => `$${++n}`),
              params as never[],
            )
            .finally(() => {
              n = 0;
            }),
        async () => {
          const [a, b] = await Promise.all(
            [0, 1].map(() => postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 2 })),
          );
          await b?.close?.();
          return a as ActionStore;
        },
        tablePrefix,
        '::jsonb',
      );
      const versions = await sql.unsafe(`SELECT version FROM ${tablePrefix}schema_migrations ORDER BY version`);
      expect(versions.map((v) => v['version'])).toEqual([1, 2, 3]);
    } finally {
      await sql.end();
    }
  });

  it('on SQLite, two processes migrating one file at once: one migrates, the other finds it done', async () => {
    const path = join(dir, `${crypto.randomUUID()}.db`);
    const db = new Database(path);
    for (const statement of upToV2('sqlite', 'gap_')) db.exec(statement);
    db.close();
    const stores = await Promise.all([openSqliteStore(path), openSqliteStore(path, { library: 'node:sqlite' })]);
    const r = record();
    await stores[0]?.create(r);
    expect(await listIds(stores[1] as ActionStore, { creator_id: [r.creator_id] })).toEqual([r.action_id]);
    for (const store of stores) await store.close?.();
  });
});
