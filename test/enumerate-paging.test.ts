/**
 * @module test/enumerate-paging: `GET /actions` a page at a time over real HTTP, on every store
 * (memory, SQLite, PostgreSQL, D1): a caller with two linked identities and 5,000 actions (seeded
 * through the store) walks them newest first, by X-Next-Marker and by Link, with no duplicate or
 * gap while actions are created and deleted meanwhile; limits and markers that are not ours are
 * 422s, never 500s; and the `enumerate` callback pages the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../adapters/node.ts';
import {
  type ActionProvider,
  type ActionRecord,
  type ActionStatus,
  type ActionStore,
  DEFAULT_ENUMERATE_LIMIT,
  type EnumerateContext,
  MAX_ENUMERATE_LIMIT,
  memoryStore,
} from '../src/index.ts';
import { d1Store } from '../src/store/d1.ts';
import { postgresStore } from '../src/store/postgres.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { type ActionClient, actionClient, type ClientReply } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { sharedD1 } from './support/d1.ts';
import { mint, tokens, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { record } from './support/stores.ts';
import { listen, TRANSPORTS } from './support/transports.ts';

const T = await tokens();
const dir = mkdtempSync(join(tmpdir(), 'gap-paging-'));
const cleanup: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});
const prefix = () => `e${crypto.randomUUID().slice(0, 8)}_`;
const d1 = sharedD1(cleanup);

/** Actions of the creator, half under each of their two linked identities. */
const SEEDED = 5_000;

interface Opened {
  store: ActionStore;
  /** Store `records` (each created by the store unless the backend has a faster way). */
  seed(records: ActionRecord[]): Promise<void>;
}

/** `store`, seeded by creating each record, 50 at a time. */
function creating(store: ActionStore): Opened {
  const seed = async (records: ActionRecord[]) => {
    for (let i = 0; i < records.length; i += 50)
      await Promise.all(records.slice(i, i + 50).map((r) => store.create(r)));
  };
  return { store, seed };
}

const STORES: [string, () => Promise<Opened>][] = [
  ['memoryStore', async () => creating(memoryStore())],
  ['openSqliteStore', async () => creating(await openSqliteStore(join(dir, `${crypto.randomUUID()}.db`)))],
  [
    'postgresStore',
    async () => creating(await postgresStore({ url: inject('databaseUrl'), tablePrefix: prefix(), max: 4 })),
  ],
  [
    'd1Store',
    async () => {
      // Through miniflare each create is a round trip to workerd: 5,000 would take minutes. The
      // rows go in 500 at a time, as the store writes them (the creator's principals row by the
      // store's own trigger).
      const db = await d1();
      const p = prefix();
      const store = await d1Store(db, { tablePrefix: p });
      const seed = async (records: ActionRecord[]) => {
        for (let i = 0; i < records.length; i += 500) {
          const chunk = JSON.stringify(records.slice(i, i + 500));
          const each = `FROM json_each(?) j`;
          const field = (name: string) => `j.value ->> '$.${name}'`;
          await db.batch([
            db
              .prepare(
                `INSERT INTO ${p}actions (action_id, creator_id, request_id, status, start_time, expires_at, version, record) ` +
                  `SELECT ${['action_id', 'creator_id', 'request_id', 'status', 'start_time', 'expires_at', 'version'].map(field).join(', ')}, json(j.value) ${each}`,
              )
              .bind(chunk),
            ...['monitor', 'manage'].map((role) =>
              db
                .prepare(
                  `INSERT INTO ${p}principals (principal, role, action_id, status, start_time) ` +
                    `SELECT m.value, '${role}', ${field('action_id')}, ${field('status')}, ${field('start_time')} ` +
                    `${each}, json_each(j.value, '$.${role}_by') m`,
                )
                .bind(chunk),
            ),
          ]);
        }
      };
      return { store, seed };
    },
  ],
];

const ids = (reply: ClientReply<ActionStatus[]>) => reply.body.map((a) => a.action_id);
const nextMarker = (reply: ClientReply) => reply.headers.get('x-next-marker') ?? undefined;

/** Every page of a listing, by X-Next-Marker; `between` runs after each page. */
async function walk(
  client: ActionClient,
  query: { status?: string; roles?: string; limit?: number } = {},
  between: (seen: readonly string[]) => Promise<void> = async () => {},
): Promise<{ ids: string[]; pages: ClientReply<ActionStatus[]>[] }> {
  const seen: string[] = [];
  const pages: ClientReply<ActionStatus[]>[] = [];
  let marker: string | undefined;
  do {
    const reply = await client.enumerate({ ...query, ...(marker === undefined ? {} : { marker }) });
    expect(reply.status, reply.text).toBe(200);
    expect(Array.isArray(reply.body)).toBe(true);
    pages.push(reply);
    seen.push(...ids(reply));
    marker = nextMarker(reply);
    await between(seen);
  } while (marker !== undefined && pages.length < 1000);
  return { ids: seen, pages };
}

describe.each(STORES)('enumerate by pages over HTTP (%s)', (_name, open) => {
  let store: ActionStore;
  let seed: Opened['seed'];
  let server: RunningServer;
  let provider: ActionProvider;
  /** The creator's seeded actions, newest first. */
  let newestFirst: string[];
  const client = (token: string) => actionClient(server.url, { token, routes: 'actions' });

  beforeAll(async () => {
    ({ store, seed } = await open());
    const records = Array.from({ length: SEEDED }, (_, i) =>
      record({ creator_id: urn(i % 2 === 0 ? USERS.creator : USERS.creatorLinked) }),
    );
    // Others' actions, interleaved in time, which the creator must never see.
    const others = Array.from({ length: 200 }, () => record({ creator_id: urn(USERS.stranger) }));
    await seed([...records, ...others]);
    newestFirst = records.map((r) => r.action_id).reverse();
    provider = testProvider({ store });
    server = await listen(provider);
    return async () => {
      await server.close();
      await store.close?.();
    };
  }, 120_000);

  it(`walks all ${SEEDED} actions of two linked identities newest first, at the default page size and at others`, async () => {
    const whole = await walk(client(T.creator));
    expect(whole.ids).toEqual(newestFirst);
    expect(whole.pages.map((p) => p.body.length)).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(nextMarker(whole.pages.at(-1) as ClientReply)).toBeUndefined();
    expect(whole.pages.at(-1)?.headers.get('link')).toBeNull();
    for (const limit of [1, 333, MAX_ENUMERATE_LIMIT]) {
      if (limit === 1) {
        // A page of one: the first few steps only.
        const first = await client(T.creator).enumerate({ limit: 1 });
        expect(ids(first)).toEqual(newestFirst.slice(0, 1));
        const second = await client(T.creator).enumerate({ limit: 1, marker: nextMarker(first) as string });
        expect(ids(second)).toEqual(newestFirst.slice(1, 2));
        continue;
      }
      const paged = await walk(client(T.creator), { limit });
      expect(paged.ids).toEqual(newestFirst);
      expect(paged.pages).toHaveLength(Math.ceil(SEEDED / limit));
    }
    // The linked identity alone sees only its own half; a stranger only theirs.
    const half = await walk(client(await mint(USERS.creatorLinked)), { limit: 1000 });
    expect(half.ids).toEqual(newestFirst.filter((_, i) => i % 2 === 0));
    expect((await walk(client(T.stranger))).ids).toHaveLength(200);
  });

  it('follows Link as given: the same pages, the other query parameters kept', async () => {
    const first = await client(T.creator).enumerate({ limit: 700, status: 'active', roles: 'creator_id' });
    const link = first.headers.get('link') as string;
    const match = /^<([^>]+)>; rel="next"$/.exec(link);
    expect(match, link).not.toBeNull();
    const url = new URL(match?.[1] as string);
    expect(url.origin + url.pathname).toBe(`${server.url}/actions`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      limit: '700',
      status: 'active',
      roles: 'creator_id',
      marker: nextMarker(first),
    });
    const seen = ids(first);
    for (let next: string | undefined = url.href; next !== undefined; ) {
      const response: Response = await fetch(next, { headers: { authorization: `Bearer ${T.creator}` } });
      expect(response.status).toBe(200);
      seen.push(...((await response.json()) as ActionStatus[]).map((a) => a.action_id));
      next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1];
    }
    expect(seen).toEqual(newestFirst);
    // pagination_token (the Python toolkit's name) is the same as marker.
    const alias = await client(T.creator).enumerate({ limit: 700, pagination_token: nextMarker(first) as string });
    expect(ids(alias)).toEqual(newestFirst.slice(700, 1400));
  });

  it('has no duplicate or gap while actions are created, deleted and completed during the walk', async () => {
    // The manager's own actions, so the other tests' counts stay put.
    const mine = Array.from({ length: 1_200 }, () => record({ creator_id: urn(USERS.manager) }));
    await seed(mine);
    const order = mine.map((r) => r.action_id).reverse();
    const missed = new Set<string>();
    const walked = await walk(client(T.manager), { limit: 250 }, async (seen) => {
      // Through the API: a run by the walker (newer than every page, so never in this walk) ...
      const run = await client(T.manager).run({ body: {} });
      expect(run.status).toBe(202);
      // ... and in the store: one action not yet listed deleted, one completed (out of the
      // default status), one already listed deleted.
      const ahead = order.filter((id) => !seen.includes(id) && !missed.has(id));
      for (const [i, id] of [ahead[3], ahead[40]].entries()) {
        if (id === undefined) continue;
        if (i === 0) await store.delete(id);
        else {
          const current = (await store.get(id)) as ActionRecord;
          await store.update({ ...current, status: 'SUCCEEDED', version: current.version + 1 });
        }
        missed.add(id);
      }
      const behind = seen.at(-1);
      if (behind !== undefined) await store.delete(behind);
    });
    expect(new Set(walked.ids).size).toBe(walked.ids.length);
    expect(walked.ids).toEqual(order.filter((id) => !missed.has(id)));
    expect(missed.size).toBeGreaterThan(6);
  });

  it('answers a page in the roles monitor_by and manage_by too, each action once', async () => {
    // The seeded actions name their creator in monitor_by and manage_by: all roles at once
    // still list each once.
    const all = await walk(client(T.creator), { roles: 'creator_id,monitor_by,manage_by', limit: 900 });
    expect(all.ids).toEqual(newestFirst);
    const monitored = await walk(client(T.creator), { roles: 'monitor_by', limit: 1000 });
    expect(monitored.ids).toEqual(newestFirst);
  });

  it('refuses a marker that is not this listing’s with a 422: tampered, another status or role, another caller, garbage', async () => {
    const first = await client(T.creator).enumerate({ limit: 10 });
    const marker = nextMarker(first) as string;
    const [place, check] = marker.split('.') as [string, string];
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const refusedMarkers = [
      `${flip(place, 3)}.${check}`,
      `${place}.${flip(check, 5)}`,
      `${place.slice(0, -2)}.${check}`,
      place,
      'garbage',
      '.',
      `${place}.${check}.x`,
      `${'A'.repeat(40)}.${'A'.repeat(22)}`,
      `__4.${check}`, // not UTF-8
    ];
    for (const bad of refusedMarkers) {
      expectError(await client(T.creator).enumerate({ marker: bad }), 422, 'RequestValidationError', /'marker'/);
    }
    // The same marker for another listing: other statuses, roles or caller.
    for (const query of [{ status: 'succeeded' }, { status: 'active,inactive' }, { roles: 'manage_by' }]) {
      expectError(await client(T.creator).enumerate({ ...query, marker }), 422, 'RequestValidationError');
    }
    expectError(await client(T.stranger).enumerate({ marker }), 422, 'RequestValidationError');
    // The listing itself in another spelling is the same listing.
    const again = await client(T.creator).enumerate({ status: 'Active', roles: 'CREATOR_ID', marker, limit: 10 });
    expect(ids(again)).toEqual(newestFirst.slice(10, 20));
    // A marker holding another place, re-checked by hand, only moves within the caller's own list.
    const encode = (text: string) => Buffer.from(text).toString('base64url');
    const forgedPlace = `9999-12-31T00:00:00.000+00:00 ${'z'.repeat(36)}`;
    const digest = await crypto.subtle.digest(
      'SHA-256',
      new TextEncoder().encode(
        JSON.stringify(['gap-enumerate-1', ['ACTIVE'], ['creator_id'], urn(USERS.stranger), forgedPlace]),
      ),
    );
    const forged = `${encode(forgedPlace)}.${Buffer.from(digest).subarray(0, 16).toString('base64url')}`;
    const strangerPage = await client(T.stranger).enumerate({ marker: forged, limit: 1000 });
    expect(strangerPage.status).toBe(200);
    expect(strangerPage.body).toHaveLength(200);
    expect(strangerPage.body.every((a: ActionStatus) => a.creator_id === urn(USERS.stranger))).toBe(true);
  });

  it.each([
    ['1e309'],
    ['-1'],
    ['0'],
    ['abc'],
    ['1.5'],
    ['1e2'],
    [''],
    [' 5'],
    [String(MAX_ENUMERATE_LIMIT + 1)],
    ['99999999999999999999'],
  ])('limit=%j → 422 naming limit', async (limit) => {
    const reply = await client(T.creator).enumerate({ limit });
    expectError(reply, 422, 'RequestValidationError', new RegExp(`'limit'.*1 to ${MAX_ENUMERATE_LIMIT}`));
  });

  it('a huge marker is refused unread: 422 in process; over HTTP the server refuses the URL, never a 500', async () => {
    const huge = 'A'.repeat(1024 * 1024);
    const inProcess = await provider.fetch(
      new Request(`http://provider.test/actions?marker=${huge}`, { headers: { authorization: `Bearer ${T.creator}` } }),
    );
    expect(inProcess.status).toBe(422);
    expect(((await inProcess.json()) as { code: string }).code).toBe('RequestValidationError');
    const justOver = await client(T.creator).enumerate({ marker: `${'A'.repeat(8_500)}.${'A'.repeat(22)}` });
    expectError(justOver, 422, 'RequestValidationError');
    const overHttp = await fetch(`${server.url}/actions?marker=${huge}`, {
      headers: { authorization: `Bearer ${T.creator}` },
    }).catch((error: unknown) => error);
    if (overHttp instanceof Response) {
      expect(overHttp.status).toBeGreaterThanOrEqual(400);
      expect(overHttp.status).toBeLessThan(500);
    }
  });
});

describe.each(TRANSPORTS)('the enumerate callback by pages ($name)', (transport) => {
  /** 25 actions held by the callback, newest first; its marker is the index of the next one. */
  const held: ActionStatus[] = Array.from({ length: 25 }, (_, i) => ({
    action_id: `held-${String(25 - i).padStart(2, '0')}`,
    status: 'ACTIVE',
    creator_id: urn(USERS.creator),
    label: null,
    monitor_by: [],
    manage_by: [],
    start_time: new Date(Date.UTC(2026, 0, 1) - i * 1000).toISOString().replace('Z', '+00:00'),
    completion_time: null,
    release_after: 'P30D',
    display_status: 'ACTIVE',
    details: {},
  }));

  it('gets limit and its own marker back, unwrapped; answers its pages with X-Next-Marker and Link', async () => {
    const seen: { limit: number; marker: string | null }[] = [];
    const p = testProvider({
      enumerate: ({ limit, marker }: EnumerateContext) => {
        seen.push({ limit, marker });
        const from = marker === null ? 0 : Number(marker);
        const actions = held.slice(from, from + limit);
        return { actions, marker: from + limit < held.length ? String(from + limit) : null };
      },
    });
    const { connection, close } = await transport.open(p);
    try {
      const c = connection.client(T.creator, 'actions');
      const got: string[] = [];
      let marker: string | undefined;
      do {
        const reply = await c.enumerate({ limit: 10, ...(marker === undefined ? {} : { marker }) });
        expect(reply.status).toBe(200);
        got.push(...ids(reply));
        marker = nextMarker(reply);
        if (marker !== undefined) expect(reply.headers.get('link')).toMatch(/[?&]marker=.*; rel="next"$/);
      } while (marker !== undefined);
      expect(got).toEqual(held.map((a) => a.action_id));
      expect(seen).toEqual([
        { limit: 10, marker: null },
        { limit: 10, marker: '10' },
        { limit: 10, marker: '20' },
      ]);
      // The default page size, and a marker not of ours: refused before the callback runs.
      expect((await c.enumerate()).body).toHaveLength(25);
      expect(seen.at(-1)).toEqual({ limit: DEFAULT_ENUMERATE_LIMIT, marker: null });
      const calls = seen.length;
      expectError(await c.enumerate({ marker: '10' }), 422, 'RequestValidationError');
      expect(seen).toHaveLength(calls);
    } finally {
      await close();
    }
  });

  it('an array answer is sent whole, as before, without a next page; a malformed answer is the provider’s 500', async () => {
    const answers: unknown[] = [held, { actions: held.slice(0, 3) }, { actions: 'x' }, { actions: [], marker: 7 }];
    const p = testProvider({ enumerate: () => answers.shift() as ActionStatus[] });
    const { connection, close } = await transport.open(p);
    try {
      const c = connection.client(T.creator, 'actions');
      const whole = await c.enumerate({ limit: 5 });
      expect(ids(whole)).toEqual(held.map((a) => a.action_id));
      expect(nextMarker(whole)).toBeUndefined();
      const last = await c.enumerate();
      expect(ids(last)).toHaveLength(3);
      expect(nextMarker(last)).toBeUndefined();
      expectError(await c.enumerate(), 500, 'ActionProviderError');
      expectError(await c.enumerate(), 500, 'ActionProviderError');
    } finally {
      await close();
    }
  });
});
