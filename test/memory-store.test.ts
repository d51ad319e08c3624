/**
 * @module test/memory-store: what the memory store keeps per action (store/memory-codec.ts):
 * records read back exactly, principals kept once and dropped with their last action,
 * request_ids whose hashes collide, and the bound on how many actions it holds. The store
 * contract itself (create, get, update, list, ...) runs in test/stores.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { ActionError, type ActionRecord, memoryStore } from '../src/index.ts';
import { pairHash } from '../src/store/memory.ts';
import { memoryCodec } from '../src/store/memory-codec.ts';
import { group, record, who } from './support/stores.ts';

const query = { statuses: ['ACTIVE', 'SUCCEEDED'] as const, limit: 1000, now: 0 };

describe('memoryCodec', () => {
  const awkward = 'nul\u0000 lone \ud800 and \udc00, a pair 😀, "quotes" \\ and \u0001';
  const cases: [string, ActionRecord][] = [
    ['a new placeholder', record()],
    [
      'a completed action with everything set',
      record({
        status: 'SUCCEEDED',
        label: 'a label',
        monitor_by: [who(2), group(1)],
        manage_by: [who(3)],
        completion_time: '2026-06-01T00:00:00.000+00:00',
        display_status: 'Done',
        details: { nested: { list: [1, 'two', null, true] }, n: 1.5 },
        state: { job: 'j-1' },
        expires_at: 1_800_000_000_000,
        version: 7,
        offline_tokens: 'sealed text',
      }),
    ],
    ['dropped tokens', record({ offline_tokens: null })],
    ['a completion time equal to the start time', { ...record(), completion_time: '2026-01-01T00:00:01.000+00:00' }],
    ['strange expiries', record({ expires_at: -5 })],
    ['a fractional expiry', record({ expires_at: 1.5 })],
    ['an expiry past 2^53', record({ expires_at: 2 ** 60 })],
    [
      'awkward strings everywhere',
      record({
        action_id: `id ${awkward}`,
        creator_id: `creator ${awkward}`,
        request_id: `request ${awkward}`,
        start_time: `2026 ${awkward}`,
        label: awkward,
        monitor_by: [awkward, ''],
        manage_by: [],
        details: { [awkward]: awkward },
      }),
    ],
  ];
  it.each(cases)('reads back %s exactly', (_name, original) => {
    const codec = memoryCodec();
    const withRequest: ActionRecord = {
      ...original,
      request: {
        ...original.request,
        label: 'request label',
        monitor_by: [who(9)],
        manage_by: null,
        allowed_clients: ['client-1'],
        deadline: '2027-01-01T00:00:00+00:00',
        release_after: 'P1D',
      },
    };
    for (const r of [original, withRequest]) {
      const entry = codec.encode(r);
      expect(codec.decode(entry)).toStrictEqual(r);
      expect(codec.header(entry)).toStrictEqual({ status: r.status, expiresAt: r.expires_at });
    }
  });

  it('refuses a status it cannot hold in its header', () => {
    expect(() => memoryCodec().encode(record({ status: 'DONE' as never }))).toThrow(TypeError);
  });

  it('keeps keys it does not know, on the record and on its request', () => {
    const codec = memoryCodec();
    const base = record();
    const future = { ...base, added_later: { x: 1 }, request: { ...base.request, also_new: [1] } } as ActionRecord;
    expect(codec.decode(codec.encode(future))).toStrictEqual(future);
    const onlyRequest = { ...base, request: { ...base.request, also_new: 'y' } } as ActionRecord;
    expect(codec.decode(codec.encode(onlyRequest))).toStrictEqual(onlyRequest);
  });

  it('orders entries as their order keys, which is (start_time, action_id)', () => {
    const codec = memoryCodec();
    const a = record({ start_time: '2026-01-01T00:00:00.000+00:00', action_id: 'b' });
    const b = record({ start_time: '2026-01-01T00:00:00.000+00:00', action_id: 'ba' });
    const c = record({ start_time: '2026-01-01T00:00:00.001+00:00', action_id: 'a' });
    const entries = [c, b, a].map(codec.encode).sort();
    expect(entries.map((e) => codec.decode(e).action_id)).toStrictEqual(['b', 'ba', 'a']);
    expect(codec.orderKey(codec.encode(b))).toBe('2026-01-01T00:00:00.000+00:00 ba');
    // A cursor sorts before its own action's entry and after the one before it.
    expect(codec.orderKey(codec.encode(b)) < codec.encode(b)).toBe(true);
    expect(codec.orderKey(codec.encode(b)) > codec.encode(a)).toBe(true);
  });

  it('decodes a new record each time, so changing one cannot change the store', () => {
    const codec = memoryCodec();
    const entry = codec.encode(record({ monitor_by: [who(2)] }));
    const first = codec.decode(entry);
    first.monitor_by.push(who(3));
    (first.details as Record<string, unknown>)['x'] = 1;
    expect(codec.decode(entry).monitor_by).toStrictEqual([who(2)]);
    expect(codec.decode(entry).details).toStrictEqual({});
  });

  it('holds each principal once, counted, and drops it with the last entry that names it', () => {
    const codec = memoryCodec();
    const entries = Array.from({ length: 100 }, (_, i) =>
      codec.encode(record({ creator_id: who(1), monitor_by: [group(1), who(i + 10)], manage_by: [who(1)] })),
    );
    expect(codec.principals).toBe(2 + 100);
    for (const entry of entries.slice(0, 50)) codec.release(entry);
    expect(codec.principals).toBe(2 + 50);
    for (const entry of entries.slice(50)) codec.release(entry);
    expect(codec.principals).toBe(0);
    // Numbers freed are used again, and read back right.
    const again = record({ creator_id: who(7), monitor_by: [group(2)] });
    expect(codec.decode(codec.encode(again))).toStrictEqual(again);
  });
});

describe('memoryStore', () => {
  // Two request_ids whose (creator, request_id) hashes collide (found by search), so both
  // actions share a slot of the store's request map.
  const creator = who(1);
  const colliding = ['request-1022789', 'request-1239192'] as const;

  it('tells apart request_ids whose hashes collide, through create, delete and update', async () => {
    const store = memoryStore();
    const a = record({ creator_id: creator, request_id: colliding[0] });
    const b = record({ creator_id: creator, request_id: colliding[1] });
    expect((await store.create(a)).created).toBe(true);
    expect((await store.create(b)).created).toBe(true);
    const again = await store.create({ ...record({ creator_id: creator, request_id: colliding[1] }) });
    expect(again).toStrictEqual({ created: false, record: b });
    expect(await store.delete(a.action_id)).toBe(true);
    expect((await store.create(record({ creator_id: creator, request_id: colliding[1] }))).record).toStrictEqual(b);
    const moved = { ...b, request_id: 'elsewhere', version: 2 };
    expect(await store.update(moved)).toStrictEqual(moved);
    expect((await store.create(record({ creator_id: creator, request_id: colliding[1] }))).created).toBe(true);
    expect((await store.create(record({ creator_id: creator, request_id: 'elsewhere' }))).record).toStrictEqual(moved);
  });

  it('keeps request_ids crafted to collide in an exact map: each found right, and a new one costs no scan', async () => {
    // FNV-1a is invertible a code unit at a time, so two code units appended to any prefix
    // can reach any hash: a caller can make as many request_ids collide as they like.
    const P = 0x01000193;
    // P's inverse mod 2^32 by Newton's iteration (each step doubles the bits that are right).
    let inverse = P;
    for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(P, inverse));
    const step = (h: number, unit: number) => Math.imul(h ^ unit, P);
    const stateAfter = (prefix: string) => {
      let h = 0x811c9dc5;
      for (const c of creator) h = step(h, c.charCodeAt(0));
      h = step(h, 0xffff);
      for (let i = 0; i < prefix.length; i++) h = step(h, prefix.charCodeAt(i));
      return h;
    };
    const target = pairHash(creator, 'first');
    const u = Math.imul(target, inverse) >>> 0;
    const crafted: string[] = ['first'];
    for (let n = 0; crafted.length < 2000; n++) {
      const prefix = `r${n}-`;
      const h0 = stateAfter(prefix);
      for (let c1 = 0; c1 < 0x10000; c1++) {
        const h1 = step(h0, c1) >>> 0;
        if (h1 >>> 16 !== u >>> 16) continue;
        crafted.push(prefix + String.fromCharCode(c1, (h1 ^ u) & 0xffff));
      }
    }
    expect(new Set(crafted.map((r) => pairHash(creator, r)))).toStrictEqual(new Set([target]));
    const store = memoryStore();
    const made = new Map<string, ActionRecord>();
    for (const requestId of crafted) {
      const r = record({ creator_id: creator, request_id: requestId });
      made.set(requestId, r);
      expect((await store.create(r)).created).toBe(true);
    }
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await store.create(record({ creator_id: creator, request_id: 'r-new' }));
      const collidingNew = crafted.at(-1) as string;
      expect((await store.create(record({ creator_id: creator, request_id: collidingNew }))).record).toStrictEqual(
        made.get(collidingNew),
      );
      expect(parse.mock.calls.length).toBeLessThanOrEqual(2); // the answer decoded; no entry scanned
    } finally {
      parse.mockRestore();
    }
    for (const [requestId, r] of [...made].filter((_, k) => k % 2 === 0)) {
      expect(await store.delete(r.action_id)).toBe(true);
      made.delete(requestId);
    }
    for (const requestId of crafted) {
      const again = await store.create(record({ creator_id: creator, request_id: requestId }));
      if (made.has(requestId)) expect(again).toStrictEqual({ created: false, record: made.get(requestId) });
      else expect(again.created).toBe(true);
    }
  });

  it('answers a run past maxActions with a 503 and Retry-After, and takes runs again once the sweeper made room', async () => {
    const store = memoryStore({ maxActions: 3 });
    const kept = [record(), record(), record({ status: 'SUCCEEDED', expires_at: 10 })];
    for (const r of kept) await store.create(r);
    const refused = await store.create(record()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ActionError);
    expect((refused as ActionError).status).toBe(503);
    expect((refused as ActionError).headers).toMatchObject({ 'retry-after': '60' });
    // The same request again is still answered with its action: a full store refuses new ones only.
    expect((await store.create({ ...record(), request_id: kept[0]?.request_id as string })).created).toBe(false);
    expect(await store.deleteExpired(11)).toBe(1);
    expect((await store.create(record())).created).toBe(true);
    expect(store.size).toBe(3);
  });

  it('checks maxActions when it is created', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
      expect(() => memoryStore({ maxActions: bad as number })).toThrow(/maxActions/);
    }
    expect(memoryStore({ maxActions: Number.POSITIVE_INFINITY }).size).toBe(0);
  });

  it('lists a page by the entries it holds, the cursor its own, and keeps the lists right through updates', async () => {
    const store = memoryStore();
    const mine = Array.from({ length: 5 }, () => record({ creator_id: creator }));
    for (const r of mine) await store.create(r);
    // A details-only update keeps its place; a status change moves it to the other list.
    const detailed = { ...(mine[1] as ActionRecord), details: { more: true }, version: 2 };
    const done = { ...(mine[3] as ActionRecord), status: 'SUCCEEDED' as const, version: 2 };
    await store.update(detailed);
    await store.update(done);
    const first = await store.list({ ...query, creator_id: [creator], limit: 2 });
    const rest = await store.list({ ...query, creator_id: [creator], cursor: first.cursor as string });
    const ids = [...first.actions, ...rest.actions].map((a) => a.action_id);
    expect(ids).toStrictEqual([...mine].reverse().map((a) => a.action_id));
    expect([...first.actions, ...rest.actions].find((a) => a.action_id === detailed.action_id)).toStrictEqual(detailed);
    const active = await store.list({ ...query, statuses: ['ACTIVE'], creator_id: [creator] });
    expect(active.actions.map((a) => a.action_id)).not.toContain(done.action_id);
    expect(await store.count?.(0)).toStrictEqual({ ACTIVE: 4, SUCCEEDED: 1 });
  });
});
