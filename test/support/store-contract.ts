/**
 * @module test/support/store-contract: what every ActionStore must do. Each implementation runs
 * it (test/stores.test.ts): create-if-absent, get, versioned update, delete, list, expiry, and
 * the sealed offline tokens a record may carry.
 */
import { describe, expect, it } from 'vitest';
import type { ActionRecord, ActionStore } from '../../src/index.ts';
import { group, record, who, withStoreFrom } from './stores.ts';

const NOW = Date.UTC(2030, 0, 1);
const ids = (list: { action_id: string }[]) => list.map((r) => r.action_id);

/** Every page of `query`, `limit` at a time: the ids in order and how many pages it took. */
async function walk(
  store: ActionStore,
  query: Omit<Parameters<ActionStore['list']>[0], 'limit' | 'now' | 'cursor'>,
  limit: number,
): Promise<{ ids: string[]; pages: number }> {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ ...query, limit, now: NOW, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.actions.length).toBeLessThanOrEqual(limit);
    seen.push(...ids(page.actions));
    cursor = page.cursor;
    pages++;
  } while (cursor !== undefined && pages < 1000);
  return { ids: seen, pages };
}

/** Register the contract for a store; `open` is called once per test with a fresh, empty store. */
export function storeContract(name: string, open: () => Promise<ActionStore>): void {
  describe(`${name}: ActionStore contract`, () => {
    const withStore = withStoreFrom(open);

    it(
      'creates, and returns the existing action for the same (creator, request_id)',
      withStore(async (store) => {
        const first = record({ details: { text: 'naïve ☃ 日本', nested: { list: [1, 2, { deep: null }] } } });
        expect(await store.create(first)).toEqual({ created: true, record: first });
        expect(await store.get(first.action_id)).toEqual(first);
        const again = record({ request_id: first.request_id, creator_id: first.creator_id });
        const result = await store.create(again);
        expect(result.created).toBe(false);
        expect(result.record).toEqual(first);
        expect(await store.get(again.action_id)).toBeUndefined();
        const otherCreator = record({ request_id: first.request_id, creator_id: who(2) });
        expect((await store.create(otherCreator)).created).toBe(true);
      }),
    );

    it(
      'lets exactly one of many concurrent creates with one key win',
      withStore(async (store) => {
        const requestId = crypto.randomUUID();
        const attempts = Array.from({ length: 25 }, () => record({ request_id: requestId }));
        const results = await Promise.all(attempts.map((r) => store.create(r)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.record.action_id)).size).toBe(1);
      }),
    );

    it(
      'updates only from the current version; one of two racing writers wins',
      withStore(async (store) => {
        const r = record();
        await store.create(r);
        const next = { ...r, status: 'SUCCEEDED' as const, details: { done: true }, version: 2, expires_at: NOW };
        expect(await store.update(next)).toEqual(next);
        expect(await store.get(r.action_id)).toEqual(next);
        expect(await store.update({ ...r, details: { stale: true }, version: 2 })).toBeUndefined();
        expect(await store.get(r.action_id)).toEqual(next);
        const racers = await Promise.all([
          store.update({ ...next, details: { by: 'a' }, version: 3 }),
          store.update({ ...next, details: { by: 'b' }, version: 3 }),
        ]);
        expect(racers.filter((x) => x !== undefined)).toHaveLength(1);
        expect((await store.get(r.action_id))?.version).toBe(3);
        expect(await store.update(record({ version: 2 }))).toBeUndefined();
      }),
    );

    it(
      'deletes, freeing the request_id',
      withStore(async (store) => {
        const r = record();
        await store.create(r);
        expect(await store.delete(r.action_id)).toBe(true);
        expect(await store.get(r.action_id)).toBeUndefined();
        expect(await store.delete(r.action_id)).toBe(false);
        const again = record({ request_id: r.request_id, creator_id: r.creator_id });
        expect((await store.create(again)).created).toBe(true);
        expect(
          await store
            .list({ statuses: ['ACTIVE'], monitor_by: [who(1)], limit: 10, now: NOW })
            .then((p) => ids(p.actions)),
        ).toEqual([again.action_id]);
      }),
    );

    it(
      'lists by creator, monitor and manager principals and by status, newest first',
      withStore(async (store) => {
        const mine = record({ creator_id: who(10) });
        const watched = record({ creator_id: who(11), monitor_by: [who(11), group(1)] });
        const managed = record({ creator_id: who(12), manage_by: [who(13)], status: 'SUCCEEDED' });
        const other = record({ creator_id: who(14) });
        for (const r of [mine, watched, managed, other]) await store.create(r);
        const list = (q: Partial<Parameters<ActionStore['list']>[0]>) =>
          store.list({ statuses: ['ACTIVE', 'SUCCEEDED'], limit: 100, now: NOW, ...q }).then((p) => ids(p.actions));
        expect(await list({ creator_id: [who(10)] })).toEqual([mine.action_id]);
        expect(await list({ monitor_by: [group(1)] })).toEqual([watched.action_id]);
        expect(await list({ manage_by: [who(13)] })).toEqual([managed.action_id]);
        expect(await list({ manage_by: [who(13)], statuses: ['ACTIVE'] })).toEqual([]);
        expect(await list({ creator_id: [who(10)], monitor_by: [group(1)], manage_by: [who(13)] })).toEqual([
          managed.action_id,
          watched.action_id,
          mine.action_id,
        ]);
        // An action matched through several roles and principals is listed once.
        expect(await list({ creator_id: [who(11)], monitor_by: [who(11), group(1)], manage_by: [who(11)] })).toEqual([
          watched.action_id,
        ]);
        expect(await list({ everyone: true })).toEqual(
          [mine, watched, managed, other].reverse().map((r) => r.action_id),
        );
        expect(await list({ creator_id: [who(99)] })).toEqual([]);
        expect(await list({})).toEqual([]);
      }),
    );

    it(
      'pages through a list with its cursor, each action exactly once',
      withStore(async (store) => {
        const created = [];
        for (let i = 0; i < 23; i++) {
          const r = record({ creator_id: who(20) });
          created.push(r.action_id);
          await store.create(r);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({
            statuses: ['ACTIVE'],
            creator_id: [who(20)],
            limit: 5,
            now: NOW,
            ...(cursor === undefined ? {} : { cursor }),
          });
          seen.push(...ids(page.actions));
          cursor = page.cursor;
          pages++;
        } while (cursor !== undefined && pages < 10);
        expect(seen).toEqual(created.reverse());
        expect(pages).toBe(5);
      }),
    );

    it(
      'leaves expired actions out of lists and deletes them with deleteExpired',
      withStore(async (store) => {
        const expired = record({
          creator_id: who(30),
          status: 'SUCCEEDED',
          expires_at: NOW - 1,
          monitor_by: [who(31)],
        });
        const due = record({ creator_id: who(30), status: 'FAILED', expires_at: NOW });
        const later = record({ creator_id: who(30), status: 'SUCCEEDED', expires_at: NOW + 60_000 });
        const active = record({ creator_id: who(30) });
        for (const r of [expired, due, later, active]) await store.create(r);
        const all = ['ACTIVE', 'SUCCEEDED', 'FAILED'] as const;
        expect(
          ids((await store.list({ statuses: [...all], creator_id: [who(30)], limit: 10, now: NOW })).actions),
        ).toEqual([active.action_id, later.action_id]);
        expect(await store.deleteExpired(NOW)).toBe(2);
        expect(await store.get(expired.action_id)).toBeUndefined();
        expect(await store.get(due.action_id)).toBeUndefined();
        expect(await store.get(later.action_id)).toEqual(later);
        expect(
          ids((await store.list({ statuses: [...all], monitor_by: [who(31)], limit: 10, now: 0 })).actions),
        ).toEqual([]);
        expect(await store.deleteExpired(NOW)).toBe(0);
        const again = record({ creator_id: who(30), request_id: expired.request_id });
        expect((await store.create(again)).created).toBe(true);
      }),
    );

    it(
      'orders actions that started in the same millisecond by action id, newest first, across pages',
      withStore(async (store) => {
        const start = record().start_time;
        const same = Array.from({ length: 7 }, (_, i) =>
          record({ creator_id: who(40), start_time: start, action_id: `same-${String.fromCharCode(97 + i)}` }),
        );
        for (const r of [...same].reverse()) await store.create(r);
        const seen = await walk(store, { statuses: ['ACTIVE'], creator_id: [who(40)] }, 3);
        expect(seen.pages).toBe(3);
        expect(seen.ids).toEqual(same.map((r) => r.action_id).reverse());
      }),
    );

    it(
      'pages stay exact while actions are created, deleted and completed during the walk',
      withStore(async (store) => {
        const caller = [who(50), who(51)]; // two linked identities
        const initial = [];
        for (let i = 0; i < 60; i++) {
          const r = record({
            creator_id: caller[i % 2] as string,
            ...(i % 3 === 0 ? { monitor_by: [group(50)] } : {}),
          });
          initial.push(r);
          await store.create(r);
        }
        const query = { statuses: ['ACTIVE', 'INACTIVE'] as const, creator_id: caller, monitor_by: [group(50)] };
        const removed = new Set<string>(); // gone from the query, seen or not
        const missed = new Set<string>(); // gone before the walk reached them
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 20; page++) {
          const got = await store.list({
            ...query,
            statuses: [...query.statuses],
            limit: 7,
            now: NOW,
            ...(cursor === undefined ? {} : { cursor }),
          });
          seen.push(...ids(got.actions));
          // Meanwhile: a newer action arrives; the next one the walk would list goes, and one it
          // listed; the oldest not yet listed pauses (INACTIVE: still in the query) and the one
          // after it completes (out of the query).
          await store.create(record({ creator_id: caller[page % 2] as string }));
          const ahead = initial.filter((r) => !seen.includes(r.action_id) && !removed.has(r.action_id));
          const gone = ahead.at(-1);
          if (gone !== undefined) {
            expect(await store.delete(gone.action_id)).toBe(true);
            removed.add(gone.action_id);
            missed.add(gone.action_id);
          }
          const behind = initial.find((r) => seen.includes(r.action_id) && !removed.has(r.action_id));
          if (behind !== undefined) {
            expect(await store.delete(behind.action_id)).toBe(true);
            removed.add(behind.action_id);
          }
          const [paused, done] = ahead.filter((r) => r !== gone);
          if (paused !== undefined) {
            const current = (await store.get(paused.action_id)) as ActionRecord;
            if (current.status === 'ACTIVE')
              await store.update({ ...current, status: 'INACTIVE', version: current.version + 1 });
          }
          if (done !== undefined) {
            const current = (await store.get(done.action_id)) as ActionRecord;
            expect(await store.update({ ...current, status: 'SUCCEEDED', version: current.version + 1 })).toBeDefined();
            removed.add(done.action_id);
            missed.add(done.action_id);
          }
          cursor = got.cursor;
          if (cursor === undefined) break;
        }
        expect(cursor).toBeUndefined();
        // Each action once, newest first: every one there from the start, except those that left
        // the query before the walk reached them; none created meanwhile (they are newer).
        const expected = initial
          .map((r) => r.action_id)
          .filter((id) => !missed.has(id))
          .reverse();
        expect(seen).toEqual(expected);
        expect(missed.size).toBeGreaterThan(10);
      }),
    );

    it(
      'walks past runs of expired actions not yet swept: pages may be short, never wrong',
      withStore(async (store) => {
        const live = [];
        for (let i = 0; i < 24; i++) {
          const expired = i % 6 !== 0; // five expired between live ones
          const r = record({
            creator_id: who(65),
            ...(expired ? { status: 'SUCCEEDED', expires_at: NOW - 1 } : { status: 'SUCCEEDED', expires_at: NOW + 1 }),
          });
          if (!expired) live.push(r.action_id);
          await store.create(r);
        }
        const seen = await walk(store, { statuses: ['SUCCEEDED'], creator_id: [who(65)] }, 2);
        expect(seen.ids).toEqual(live.reverse());
      }),
    );

    it(
      'answers some page for any cursor, never failing: garbage, empty, NUL, lone surrogates, long',
      withStore(async (store) => {
        for (let i = 0; i < 3; i++) await store.create(record({ creator_id: who(60) }));
        for (const cursor of ['garbage', '', ' ', '\u0000 \u0000', '\ud800 \udfff', `${'9'.repeat(5000)} x`, '0 0']) {
          const page = await store.list({ statuses: ['ACTIVE'], creator_id: [who(60)], limit: 2, now: NOW, cursor });
          expect(page.actions.length).toBeLessThanOrEqual(2);
        }
        // A cursor above every start time is the first page; one below is the end.
        expect(
          ids(
            (await store.list({ statuses: ['ACTIVE'], creator_id: [who(60)], limit: 5, now: NOW, cursor: '9' }))
              .actions,
          ),
        ).toHaveLength(3);
        expect(
          (await store.list({ statuses: ['ACTIVE'], creator_id: [who(60)], limit: 5, now: NOW, cursor: '0' })).actions,
        ).toEqual([]);
      }),
    );

    it(
      'lists a caller in very many groups, every role and status, exactly (more arms than one statement merges)',
      withStore(async (store) => {
        const groups = Array.from({ length: 60 }, (_, i) => group(100 + i));
        const all = ['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED'] as const;
        const created = [];
        for (let i = 0; i < 30; i++) {
          const r = record({
            creator_id: who(70 + (i % 3)),
            status: all[i % 4] as (typeof all)[number],
            monitor_by: [groups[(i * 7) % 60] as string],
            manage_by: [groups[(i * 11) % 60] as string, who(70)],
          });
          created.push(r);
          await store.create(r);
        }
        const query = {
          statuses: [...all],
          creator_id: [who(70)],
          monitor_by: [who(70), ...groups],
          manage_by: [who(70), ...groups],
        };
        const seen = await walk(store, query, 4);
        expect(seen.ids).toEqual(created.map((r) => r.action_id).reverse());
      }),
    );

    it(
      'keeps the sealed offline tokens of a record through update and get, and their drop to null',
      withStore(async (store) => {
        // What tokens/seal.ts writes: base64url parts joined by dots.
        const sealed = `v1.AAAAAAAAAAA.${'a'.repeat(16)}.${'b-_'.repeat(200)}`;
        const r = record();
        await store.create(r);
        const kept = { ...r, offline_tokens: sealed, version: 2 };
        expect(await store.update(kept)).toEqual(kept);
        expect(await store.get(r.action_id)).toEqual(kept);
        const listed = await store.list({ statuses: ['ACTIVE'], creator_id: [r.creator_id], limit: 10, now: NOW });
        expect(listed.actions.find((a) => a.action_id === r.action_id)?.offline_tokens).toBe(sealed);
        const dropped = {
          ...kept,
          status: 'SUCCEEDED' as const,
          offline_tokens: null,
          version: 3,
          expires_at: NOW + 1,
        };
        expect(await store.update(dropped)).toEqual(dropped);
        expect((await store.get(r.action_id))?.offline_tokens).toBeNull();
      }),
    );
  });
}
