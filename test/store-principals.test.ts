/**
 * @module test/store-principals: an action with very long monitor_by and manage_by lists is
 * stored in one statement per role, not one per principal (which held SQLite for 3 s and a
 * PostgreSQL connection for 21 s at 80,000 + 80,000): its principals are all found by list,
 * and all removed with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Miniflare } from 'miniflare';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ActionStore } from '../src/index.ts';
import { type D1Like, d1Store } from '../src/store/d1.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { type SyncSqliteDatabase, sqliteStore } from '../src/store/sqlite.ts';
import { group, record, who } from './support/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'gap-principals-'));
const cleanup: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** The principal rows of a store, counted with its own database. */
type Count = () => Promise<number>;

/** Statements the SQLite store ran (each prepared statement's run/all), counted on the real database. */
let sqliteRuns = 0;

async function sqlite(): Promise<[ActionStore, Count]> {
  const db = new Database(join(dir, `${crypto.randomUUID()}.db`));
  const counting: SyncSqliteDatabase = {
    prepare(sql) {
      const statement = db.prepare(sql);
      const counted =
        <A extends unknown[], R>(call: (...params: A) => R) =>
        (...params: A) => {
          sqliteRuns++;
          return call(...params);
        };
      return { run: counted((...p) => statement.run(...p)), all: counted((...p) => statement.all(...p)) };
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
  const store = await sqliteStore(counting, { closeDatabase: false });
  cleanup.push(() => db.close());
  return [store, async () => Number(db.prepare('SELECT count(*) AS n FROM gap_principals').get()?.['n' as never])];
}

async function pg(): Promise<[ActionStore, Count]> {
  const tablePrefix = `p${crypto.randomUUID().slice(0, 8)}_`;
  // 160,000 rows into three indexes (schema 3 orders them for enumerate) take PostgreSQL 2-8 s
  // here, past the default 5 s a call may take.
  const store = await postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 2, statementTimeout: 30_000 });
  const sql = postgres(inject('databaseUrl'), { max: 1 });
  cleanup.push(() => sql.end());
  return [
    store,
    async () => Number((await sql.unsafe(`SELECT count(*) AS n FROM ${tablePrefix}principals`))[0]?.['n']),
  ];
}

async function d1(): Promise<[ActionStore, Count]> {
  const miniflare = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response() } }',
    d1Databases: ['DB'],
    compatibilityDate: '2026-04-01',
  });
  cleanup.push(() => miniflare.dispose());
  const db = await miniflare.getD1Database('DB');
  const store = await d1Store(db as unknown as D1Like);
  return [store, async () => Number((await db.prepare('SELECT count(*) AS n FROM gap_principals').first())?.['n'])];
}

describe.each([
  // Bounds far above what these take here (SQLite about 1-2 s, PostgreSQL 2-8 s since schema 3
  // added the ordered index) and below the statement-per-principal times (PostgreSQL 21 s); the
  // SQLite case counts its statements too.
  ['sqliteStore', sqlite, 80_000, 10_000],
  ['postgresStore', pg, 80_000, 18_000],
  // D1 caps a bound value at 2 MB (about 40,000 principals in one list); the envelope caps lists far below that.
  ['d1Store', d1, 5_000, 5_000],
] as const)('%s with long principal lists', (name, open, count, boundMs) => {
  it(`stores ${count} + ${count} principals in one statement per role, lists by any of them, deletes them all`, async () => {
    const [store, principalRows] = await open();
    const monitors = Array.from({ length: count }, (_, i) => who(1_000 + i));
    const managers = Array.from({ length: count }, (_, i) => group(1_000 + i));
    const r = record({ monitor_by: monitors, manage_by: managers });
    const started = performance.now();
    const runsBefore = sqliteRuns;
    expect((await store.create(r)).created).toBe(true);
    const ms = performance.now() - started;
    // The action, one statement per role, and the read of the winner.
    if (name === 'sqliteStore') expect(sqliteRuns - runsBefore).toBe(4);
    console.info(`${name}: created with ${count} + ${count} principals in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(boundMs);
    // ... and the creator's row, which a trigger writes (it orders the creator's pages too).
    expect(await principalRows()).toBe(2 * count + 1);
    const list = (q: object) => store.list({ statuses: ['ACTIVE'], limit: 10, now: Date.now(), ...q });
    expect((await list({ monitor_by: [monitors.at(-1) as string] })).actions.map((a) => a.action_id)).toEqual([
      r.action_id,
    ]);
    expect((await list({ manage_by: [managers.at(-1) as string] })).actions.map((a) => a.action_id)).toEqual([
      r.action_id,
    ]);
    // A duplicate run stores no principals of its own.
    expect((await store.create(record({ request_id: r.request_id, monitor_by: monitors }))).created).toBe(false);
    expect(await principalRows()).toBe(2 * count + 1);
    expect(await store.delete(r.action_id)).toBe(true);
    expect(await principalRows()).toBe(0);
    await store.close?.();
  });
});
