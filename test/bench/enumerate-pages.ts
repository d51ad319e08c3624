/**
 * @module test/bench/enumerate-pages: how long one page of `GET /actions` takes, at the start,
 * the middle and the end of a caller's 100,000 actions, on memory, SQLite and PostgreSQL: the
 * work per page should stay flat, whatever the page's place and the caller's total.
 *
 *   npx tsx test/bench/enumerate-pages.ts
 *   npx tsx test/bench/enumerate-pages.ts --actions 100000 --others 100000 --stores memory,sqlite,postgres --repeat 5
 *
 * The caller has two linked identities (half the actions under each) and is in `--groups`
 * groups; `--others` actions of 1,000 other callers are interleaved in time with theirs. 90% of
 * the caller's actions are SUCCEEDED, 10% ACTIVE. Seeded through the stores' own tables (SQL:
 * INSERT ... SELECT from JSON, as the store writes rows, the creator's principals row by its
 * trigger; memory: create()), then each store is served over HTTP by adapters/node.ts in this
 * process, and walked page by page with `limit` and `marker`. Three listings:
 *   creator   status=succeeded,active (2 identities x 2 statuses = 4 index ranges merged)
 *   roles     the same with roles=creator_id,monitor_by,manage_by (identities and groups, both
 *             roles: (2 + 2 x (2 + groups)) x 2 ranges)
 *   default   status=active only (the default listing: 10,000 of them)
 * For each: ms per page (median of `--repeat` requests of that same page, marker in hand) for the
 * first, middle and last pages, at limit 1000 (the default) and 100; the time of the whole walk;
 * and the store's list() alone for the same pages. `--explain` also prints the plan of each
 * listing's middle page of 1,000 (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { type RunningServer, serve } from '../../adapters/node.ts';
import { type ActionRecord, type ActionStore, memoryStore } from '../../src/index.ts';
import { postgresStore } from '../../src/store/postgres.ts';
import type { SqlStatement } from '../../src/store/sql.ts';
import { sqlQueries } from '../../src/store/sql-queries.ts';
import { sqliteStore } from '../../src/store/sqlite.ts';
import { groupUrn, mint, USERS, urn } from '../support/identities.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import { testProvider } from '../support/providers.ts';
import { storedRequest } from '../support/stores.ts';

const { values: args } = parseArgs({
  options: {
    actions: { type: 'string', default: '100000' },
    others: { type: 'string', default: '100000' },
    groups: { type: 'string', default: '10' },
    stores: { type: 'string', default: 'memory,sqlite,postgres' },
    repeat: { type: 'string', default: '5' },
    explain: { type: 'boolean', default: false },
  },
});
const ACTIONS = Number(args.actions);
const OTHERS = Number(args.others);
const GROUPS = Number(args.groups);
const REPEAT = Number(args.repeat);
const STORES = args.stores.split(',').filter(Boolean);
const EXPLAIN = args.explain;
/** The plans --explain printed, after the table. */
const explained: string[] = [];

const started = performance.now();
const log = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const creators = [urn(USERS.creator), urn(USERS.creatorLinked)];
const groups = Array.from({ length: GROUPS }, (_, i) =>
  groupUrn(`00000000-0000-4000-9000-${String(i).padStart(12, '0')}`),
);
const token = await mint(USERS.creator, {
  identitySet: [USERS.creator, USERS.creatorLinked],
  groups: groups.map((g) => g.slice('urn:globus:groups:id:'.length)),
});

/** The records: the caller's, interleaved one in (1 + others/actions) with others'. */
function records(): ActionRecord[] {
  const all: ActionRecord[] = [];
  const t0 = Date.UTC(2026, 0, 1);
  const total = ACTIONS + OTHERS;
  let mine = 0;
  for (let i = 0; i < total; i++) {
    // The caller's, spread evenly among the others'.
    const isMine = Math.floor(((i + 1) * ACTIONS) / total) > Math.floor((i * ACTIONS) / total);
    const other = urn(`00000000-0000-4000-8000-${String(1000 + (i % 1000)).padStart(12, '0')}`);
    const creator = isMine ? (creators[mine % 2] as string) : other;
    const status = isMine && mine % 10 === 0 ? 'ACTIVE' : 'SUCCEEDED';
    if (isMine) mine++;
    const requestId = `bench-${i}`;
    const start = new Date(t0 + i * 1000).toISOString().replace('Z', '+00:00');
    all.push({
      action_id: crypto.randomUUID(),
      creator_id: creator,
      request_id: requestId,
      request: storedRequest(requestId, { input_string: 'hello' }),
      status,
      label: null,
      monitor_by: [creator],
      manage_by: [creator],
      start_time: start,
      completion_time: status === 'ACTIVE' ? null : start,
      release_after: 'P30D',
      display_status: status,
      details: status === 'ACTIVE' ? {} : { output: 'hello' },
      state: null,
      expires_at: null,
      version: 1,
    });
  }
  return all;
}

const COLUMNS = ['action_id', 'creator_id', 'request_id', 'status', 'start_time', 'expires_at', 'version'];

/** Actions and their monitor/manage rows, 5,000 a statement; the creator's row comes from the trigger. */
async function seedSql(
  run: (sql: string, json: string) => Promise<unknown>,
  p: string,
  all: ActionRecord[],
  pg: boolean,
) {
  const each = pg ? 'FROM jsonb_array_elements(?::text::jsonb) j(value)' : 'FROM json_each(?) j';
  const field = (name: string) => (pg ? `(j.value ->> '${name}')` : `j.value ->> '$.${name}'`);
  const typed = (name: string) =>
    pg && (name === 'expires_at' || name === 'version')
      ? `${field(name)}::${name === 'version' ? 'int' : 'bigint'}`
      : field(name);
  for (let i = 0; i < all.length; i += 5000) {
    const chunk = JSON.stringify(all.slice(i, i + 5000));
    await run(
      `INSERT INTO ${p}actions (${COLUMNS.join(', ')}, record) SELECT ${COLUMNS.map(typed).join(', ')}, ${pg ? 'j.value' : 'json(j.value)'} ${each}`,
      chunk,
    );
    for (const role of ['monitor', 'manage']) {
      const members = pg
        ? `jsonb_array_elements_text(j.value -> '${role}_by') m(value)`
        : `json_each(j.value, '$.${role}_by') m`;
      await run(
        `INSERT INTO ${p}principals (principal, role, action_id, status, start_time) ` +
          `SELECT m.value, '${role}', ${field('action_id')}, ${field('status')}, ${field('start_time')} ${each}, ${members}`,
        chunk,
      );
    }
  }
}

interface Opened {
  store: ActionStore;
  close(): Promise<void>;
  /** The plan of the statement list() runs for `query` (SQL stores), for --explain. */
  explain?(query: Parameters<ActionStore['list']>[0]): Promise<string>;
}

async function open(
  name: string,
  all: ActionRecord[],
  dir: string,
  pgServer: () => Promise<PostgresServer>,
): Promise<Opened> {
  if (name === 'memory') {
    const store = memoryStore();
    for (const r of all) await store.create(r);
    return { store, close: async () => {} };
  }
  if (name === 'sqlite') {
    const path = join(dir, 'bench.db');
    const db = new Database(path);
    const store = await sqliteStore(db, { synchronous: 'normal' });
    const insert = (sql: string, json: string) => Promise.resolve(db.prepare(sql).run(json));
    db.exec('BEGIN');
    await seedSql(insert, 'gap_', all, false);
    db.exec('COMMIT');
    db.exec('ANALYZE');
    const explain = async (query: Parameters<ActionStore['list']>[0]) => {
      const statement = sqlQueries('sqlite', 'gap_').list(query) as SqlStatement;
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).all(...statement.params) as { detail: string }[];
      return plan.map((row) => `  ${row.detail}`).join('\n');
    };
    return { store, close: async () => store.close?.(), explain };
  }
  const server = await pgServer();
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  const store = await postgresStore({ url: server.url, tablePrefix: 'bench_' });
  let n = 0;
  await seedSql(
    (text, json) =>
      sql
        .unsafe(
          text.replace(/\?/g, () => `$${++n}`),
          [json],
        )
        .finally(() => {
          n = 0;
        }),
    'bench_',
    all,
    true,
  );
  // VACUUM as autovacuum would have by now: index-only scans then skip the heap.
  await sql.unsafe('VACUUM ANALYZE');
  const explain = async (query: Parameters<ActionStore['list']>[0]) => {
    const statement = sqlQueries('postgres', 'bench_').list(query) as SqlStatement;
    let i = 0;
    const text = statement.sql.replace(/\?/g, () => `$${++i}`);
    const plan = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, statement.params as never[]);
    return plan.map((row) => `  ${String(row['QUERY PLAN'])}`).join('\n');
  };
  return {
    store,
    close: async () => {
      await store.close?.();
      await sql.end();
    },
    explain,
  };
}

interface Listing {
  name: string;
  query: Record<string, string>;
  storeQuery: (principals: string[]) => Omit<Parameters<ActionStore['list']>[0], 'limit' | 'now'>;
}

const LISTINGS: Listing[] = [
  {
    name: 'creator',
    query: { status: 'succeeded,active' },
    storeQuery: () => ({ statuses: ['SUCCEEDED', 'ACTIVE'], creator_id: creators }),
  },
  {
    name: 'roles',
    query: { status: 'succeeded,active', roles: 'creator_id,monitor_by,manage_by' },
    storeQuery: (principals) => ({
      statuses: ['SUCCEEDED', 'ACTIVE'],
      creator_id: creators,
      monitor_by: principals,
      manage_by: principals,
    }),
  },
  { name: 'default', query: {}, storeQuery: () => ({ statuses: ['ACTIVE'], creator_id: creators }) },
];

async function page(
  server: RunningServer,
  query: Record<string, string>,
): Promise<{ ms: number; count: number; next?: string }> {
  const url = `${server.url}/actions?${new URLSearchParams(query)}`;
  const t = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  const elapsed = performance.now() - t;
  if (response.status !== 200) throw new Error(`${response.status} ${text.slice(0, 300)}`);
  const next = response.headers.get('x-next-marker') ?? undefined;
  return { ms: elapsed, count: (JSON.parse(text) as unknown[]).length, ...(next === undefined ? {} : { next }) };
}

async function measure(name: string, opened: Opened): Promise<void> {
  const server = await serve(testProvider({ store: opened.store }), { port: 0, handleSignals: false });
  try {
    for (const listing of LISTINGS) {
      for (const limit of [1000, 100]) {
        // The walk: every marker, and the time of the whole.
        const markers: (string | undefined)[] = [undefined];
        let total = 0;
        const walkStarted = performance.now();
        for (;;) {
          const marker = markers.at(-1);
          const got = await page(server, {
            ...listing.query,
            limit: String(limit),
            ...(marker === undefined ? {} : { marker }),
          });
          total += got.count;
          if (got.next === undefined) break;
          markers.push(got.next);
        }
        const walkMs = performance.now() - walkStarted;
        const at = { first: 0, middle: Math.floor(markers.length / 2), last: markers.length - 1 };
        const times: Record<string, number> = {};
        for (const [where, i] of Object.entries(at)) {
          const marker = markers[i];
          const samples: number[] = [];
          for (let k = 0; k < REPEAT; k++) {
            samples.push(
              (
                await page(server, {
                  ...listing.query,
                  limit: String(limit),
                  ...(marker === undefined ? {} : { marker }),
                })
              ).ms,
            );
          }
          times[where] = median(samples);
        }
        // The store alone, at the same places (its own cursors, from a walk of list()).
        const principals = [...creators, ...groups];
        const q = listing.storeQuery(principals);
        const cursors: (string | undefined)[] = [undefined];
        for (;;) {
          const cursor = cursors.at(-1);
          const got = await opened.store.list({
            ...q,
            limit,
            now: Date.now(),
            ...(cursor === undefined ? {} : { cursor }),
          });
          if (got.cursor === undefined) break;
          cursors.push(got.cursor);
        }
        const storeTimes: Record<string, number> = {};
        for (const [where, i] of Object.entries(at)) {
          const cursor = cursors[i];
          const samples: number[] = [];
          for (let k = 0; k < REPEAT; k++) {
            const t = performance.now();
            await opened.store.list({ ...q, limit, now: Date.now(), ...(cursor === undefined ? {} : { cursor }) });
            samples.push(performance.now() - t);
          }
          storeTimes[where] = median(samples);
        }
        if (EXPLAIN && opened.explain !== undefined && limit === 1000) {
          const cursor = cursors[at.middle];
          explained.push(
            `${name} ${listing.name}, middle page of ${limit}:\n${await opened.explain({ ...q, limit, now: Date.now(), ...(cursor === undefined ? {} : { cursor }) })}`,
          );
        }
        console.log(
          [
            name.padEnd(8),
            listing.name.padEnd(8),
            String(limit).padStart(5),
            String(total).padStart(7),
            String(markers.length).padStart(5),
            ...['first', 'middle', 'last'].map((w) => ms(times[w] as number).padStart(7)),
            ...['first', 'middle', 'last'].map((w) => ms(storeTimes[w] as number).padStart(7)),
            (walkMs / 1000).toFixed(2).padStart(7),
          ].join(' '),
        );
      }
    }
  } finally {
    await server.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gap-bench-pages-'));
let pg: PostgresServer | undefined;
try {
  log(
    `${ACTIONS} actions of one caller (2 identities, ${GROUPS} groups), ${OTHERS} of others; ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}`,
  );
  const all = records();
  console.log('');
  console.log('                                       ---- HTTP ms/page ----  ---- list() ms ----');
  console.log('store    listing  limit  listed pages    first  middle    last   first  middle    last  walk s');
  for (const name of STORES) {
    const seedStarted = performance.now();
    const opened = await open(name, all, dir, async () => {
      pg ??= await startPostgres();
      return pg;
    });
    log(`${name}: seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    try {
      await measure(name, opened);
    } finally {
      await opened.close();
    }
  }
  for (const plan of explained) console.log(`\n${plan}`);
  log(`done; load ${loadavg()[0]?.toFixed(1)}`);
} finally {
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}
