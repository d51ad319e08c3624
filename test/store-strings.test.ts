/**
 * @module test/store-strings: strings PostgreSQL cannot hold as they are (NUL, which TEXT and
 * JSONB refuse; lone surrogates, which JSONB refuses and the drivers turn into U+FFFD) round
 * trip exactly, on memory, SQLite, D1 and PostgreSQL alike: in details, labels, bodies and
 * object keys, and in the key columns (ids, request_ids, principals), where two such strings
 * must stay two. An id that cannot exist, `GET /%00/status`, is 404 like any unknown id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type ActionStore, memoryStore } from '../src/index.ts';
import { d1Store } from '../src/store/d1.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import { sharedD1 } from './support/d1.ts';
import { mint, USERS } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { record, withStoreFrom } from './support/stores.ts';
import { inProcessClient } from './support/transports.ts';

const dir = mkdtempSync(join(tmpdir(), 'gap-strings-'));
const cleanup: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});
const prefix = () => `s${crypto.randomUUID().slice(0, 8)}_`;

const d1Database = sharedD1(cleanup);
const d1 = async (): Promise<ActionStore> => d1Store(await d1Database(), { tablePrefix: prefix() });

const STORES: [string, () => Promise<ActionStore>][] = [
  ['memoryStore', async () => memoryStore()],
  ['sqliteStore', () => sqliteStore(new Database(join(dir, `${crypto.randomUUID()}.db`)))],
  ['postgresStore', () => postgresStore({ url: inject('databaseUrl'), tablePrefix: prefix(), max: 2 })],
  ['d1Store', d1],
];

/** Every awkward string: NUL, lone high and low surrogates, a reversed pair, and look-alikes of the encodings. */
const AWKWARD = {
  nul: 'a\u0000b',
  onlyNul: '\u0000',
  high: 'x\ud800y',
  low: 'x\udc00y',
  reversed: '\udc00\ud800',
  pair: '\ud83d\ude00',
  escapedLookAlike: '\\u0000 and \\ud800',
  mark: '\uffff"a\\u0000"',
  wrappedLookAlike: '{"gap_json_text":"{}"}',
};

describe.each(STORES)('%s keeps NUL and lone surrogates exactly', (_name, open) => {
  const withStore = withStoreFrom(open);

  it(
    'in details, label and body, values and keys alike, through create, get and update',
    withStore(async (store) => {
      const details = { ...AWKWARD, nested: [AWKWARD.nul, { [AWKWARD.nul]: AWKWARD.high, [AWKWARD.low]: 1 }] };
      const r = record({ label: AWKWARD.nul, details });
      r.request.body = { text: AWKWARD.high, [AWKWARD.onlyNul]: AWKWARD.reversed };
      expect(await store.create(r)).toEqual({ created: true, record: r });
      expect(await store.get(r.action_id)).toEqual(r);
      const next = { ...r, details: { after: AWKWARD.low, ...AWKWARD }, version: 2 };
      expect(await store.update(next)).toEqual(next);
      expect(await store.get(r.action_id)).toEqual(next);
      // And back to plain strings: the record is stored as any other again.
      const plain = { ...next, details: { plain: 'text' }, version: 3 };
      expect(await store.update(plain)).toEqual(plain);
      expect(await store.get(r.action_id)).toEqual(plain);
    }),
  );

  it(
    'in request_ids, ids and principals: each its own key, found again exactly',
    withStore(async (store) => {
      // Both lone surrogates would be U+FFFD in the database if sent as they are: one key.
      const high = record({ request_id: 'r\ud800' });
      const low = record({ request_id: 'r\udbff', creator_id: high.creator_id });
      const nul = record({ request_id: 'r\u0000', creator_id: high.creator_id });
      const nulId = record({ action_id: 'id\u0000x', monitor_by: ['urn:p\u0000'], manage_by: ['urn:q\ud800'] });
      for (const r of [high, low, nul, nulId]) expect((await store.create(r)).created).toBe(true);
      expect((await store.create(record({ request_id: 'r\ud800', creator_id: high.creator_id }))).record).toEqual(high);
      expect(await store.get('id\u0000x')).toEqual(nulId);
      const list = (q: object) => store.list({ statuses: ['ACTIVE'], limit: 10, now: Date.now(), ...q });
      expect((await list({ monitor_by: ['urn:p\u0000'] })).actions).toEqual([nulId]);
      expect((await list({ manage_by: ['urn:q\ud800'] })).actions).toEqual([nulId]);
      expect((await list({ manage_by: ['urn:q\udbff'] })).actions).toEqual([]);
      expect(await store.delete('id\u0000x')).toBe(true);
      expect(await store.get('id\u0000x')).toBeUndefined();
    }),
  );

  it(
    'answers an id that cannot be stored as unknown, not with an error',
    withStore(async (store) => {
      for (const id of ['\u0000', 'a\u0000', '\ud800', '\udfff\u0000']) {
        expect(await store.get(id)).toBeUndefined();
        expect(await store.delete(id)).toBe(false);
      }
    }),
  );
});

describe('postgresStore stores such a record as JSONB all the same', () => {
  it('as its JSON text in a one-key object; plain records stay plain JSONB', async () => {
    const tablePrefix = prefix();
    const store = await postgresStore({ url: inject('databaseUrl'), tablePrefix, max: 1 });
    const sql = postgres(inject('databaseUrl'), { max: 1 });
    try {
      const awkward = record({ details: { text: AWKWARD.nul } });
      const plain = record({ details: { text: 'plain' } });
      await store.create(awkward);
      await store.create(plain);
      const rows = await sql.unsafe(
        `SELECT action_id, jsonb_typeof(record->'gap_json_text') AS wrapped, record->'details'->>'text' AS text FROM ${tablePrefix}actions`,
      );
      const byId = new Map(rows.map((row) => [row['action_id'], row]));
      expect(byId.get(awkward.action_id)?.['wrapped']).toBe('string');
      expect(byId.get(plain.action_id)?.['wrapped']).toBeNull();
      expect(byId.get(plain.action_id)?.['text']).toBe('plain');
    } finally {
      await sql.end();
      await store.close?.();
    }
  });
});

describe('through the provider, every store answers such strings alike', () => {
  const providers = async () => {
    const token = await mint(USERS.creator);
    return Promise.all(
      STORES.filter(([name]) => name !== 'd1Store').map(async ([name, open]) => {
        const store = await open();
        cleanup.push(() => store.close?.());
        return { name, provider: testProvider({ store }), token };
      }),
    );
  };

  it('runs a body holding NUL and lone surrogates (202) and reads it back exactly', async () => {
    for (const { name, provider, token } of await providers()) {
      const client = inProcessClient(provider, { token });
      const body = { ...AWKWARD, [AWKWARD.nul]: [AWKWARD.high, AWKWARD.low] };
      const run = await client.run({ body });
      expect(run.status, `${name}: ${run.text}`).toBe(202);
      expect(run.body.details).toEqual({ got: body });
      const status = await client.status(run.body.action_id);
      expect(status.status, name).toBe(200);
      expect(status.body.details).toEqual({ got: body });
      expect(status.text).toContain('a\\u0000b');
      expect(status.text).toContain('x\\ud800y');
    }
  });

  it('answers GET /%00/status and other ids no action can have with 404 ActionNotFound', async () => {
    for (const { name, provider, token } of await providers()) {
      for (const path of ['/%00/status', '/a%00b/status', '/actions/%00', '/%00/log', '/%ED%A0%80/status']) {
        const reply = await rawCaller(provider)('GET', path, { token });
        expect(reply.status, `${name} ${path}: ${reply.text}`).toBe(404);
        expect(reply.body.code).toBe('ActionNotFound');
      }
      const cancel = await rawCaller(provider)('POST', '/%00/cancel', { token });
      expect(cancel.status, name).toBe(404);
    }
  });

  it('gives a request_id or label holding NUL or a lone surrogate the same answer on every store', async () => {
    const answers = new Map<string, string[]>();
    for (const { name, provider, token } of await providers()) {
      const client = inProcessClient(provider, { token });
      const seen: string[] = [];
      for (const request of [
        { request_id: 'r\u0000', body: {} },
        { request_id: 'r\ud800', body: {} },
        { request_id: 'r\udbff', body: {} },
        { request_id: 'r\ud800', body: {} },
        { request_id: crypto.randomUUID(), body: {}, label: 'l\u0000' },
        { request_id: crypto.randomUUID(), body: {}, label: 'l\ud800' },
      ]) {
        const reply = await client.run(request);
        seen.push(`${reply.status} ${reply.body?.code ?? ''} ${JSON.stringify(reply.body?.label ?? null)}`);
      }
      answers.set(name, seen);
    }
    const [first, ...rest] = [...answers.values()];
    for (const other of rest) expect(other).toEqual(first);
    // Whatever the envelope decides (stored or 422), the two lone surrogates are two requests.
    expect(first?.[3]).toMatch(/^(200|422)/);
  });
});
