/**
 * @module test/envelope-bounds: the documented bounds of an ActionRequest (release_after at most
 * a year, principal lists at most 1,000, request_id printable and at most 512 characters, but
 * possibly empty), and that a run failing after its placeholder was stored leaves nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { type ActionRecord, type ActionStore, memoryStore } from '../src/index.ts';
import { rid } from './support/actions.ts';
import { expectError, fieldLines } from './support/assertions.ts';
import { mint, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { record, storedRequest } from './support/stores.ts';
import { inProcessClient } from './support/transports.ts';

const token = await mint(USERS.creator);
const principals = (n: number) =>
  Array.from({ length: n }, (_, i) => urn(`00000000-0000-4000-a000-${String(i).padStart(12, '0')}`));

/** A provider and a raw caller over it, with its store. */
function setup(store: ActionStore = memoryStore()) {
  const provider = testProvider({ store });
  return { store, provider, call: rawCaller(provider), client: inProcessClient(provider, { token }) };
}

describe('release_after', () => {
  it.each([
    ['1e21 seconds', 1e21],
    ['one second over a year', 31_622_401],
    ['P99999999999999999999Y', 'P99999999999999999999Y'],
    ['PT99999999999999999999S', 'PT99999999999999999999S'],
    ['P367D', 'P367D'],
    ['P1Y1D', 'P1Y1D'],
  ])('%s is 422 naming the field, and nothing is stored', async (_name, releaseAfter) => {
    const { call, store } = setup();
    const requestId = rid();
    const reply = await call('POST', '/run', {
      token,
      body: { request_id: requestId, body: {}, release_after: releaseAfter },
    });
    expectError(reply, 422, 'RequestValidationError');
    expect(fieldLines(reply)).toEqual([
      expect.stringMatching(/^Field '\$\.release_after' \(category: 'value'\): .*one year/),
    ]);
    expect((store as ReturnType<typeof memoryStore>).size).toBe(0);
    const retry = await call('POST', '/run', { token, body: { request_id: requestId, body: {}, release_after: 60 } });
    expect(retry.status).toBe(202);
  });

  it.each([
    [31_622_400, 'PT31622400S'],
    ['P1Y', 'P1Y'],
    ['P12M', 'P12M'],
    ['P366D', 'P366D'],
  ])('%s (a year) is accepted', async (releaseAfter, echoed) => {
    const reply = await setup().client.run({ body: {}, release_after: releaseAfter });
    expect([reply.status, reply.body.release_after]).toEqual([202, echoed]);
  });

  it('a maximum_deadline a date cannot be added to fails at creation', () => {
    expect(() => testProvider({ description: { maximum_deadline: 'P99999999999999999999Y' } as never })).toThrow(
      /^description\.maximum_deadline: /,
    );
  });
});

describe('principal lists', () => {
  it.each(['monitor_by', 'manage_by'])('%s takes 1,000 principals and answers 1,001 with 422', async (field) => {
    const { call, client } = setup();
    expect((await client.run({ body: {}, [field]: principals(1000) })).status).toBe(202);
    const reply = await call('POST', '/run', {
      token,
      body: { request_id: rid(), body: {}, [field]: principals(1001) },
    });
    expectError(reply, 422, 'RequestValidationError');
    expect(fieldLines(reply)).toEqual([
      `Field '$.${field}' (category: 'max_length'): Invalid length: Expected <=1000 items`,
    ]);
  });

  it('a list of 100,000 bad principals is checked to its first issue only: a 422 of two lines, at once', async () => {
    const reply = await setup().call('POST', '/run', {
      token,
      body: { request_id: rid(), body: {}, monitor_by: Array(100_000).fill('x') },
    });
    expectError(reply, 422, 'RequestValidationError');
    expect(fieldLines(reply)).toEqual([
      expect.stringMatching(/^Field '\$\.monitor_by\[0\]' \(category: 'pattern'\): Invalid principal/),
      'and possibly more issues (the body is too large to list them all)',
    ]);
  });

  it('a list of 5,000 bad principals names the first 100 and counts the rest', async () => {
    const reply = await setup().call('POST', '/run', {
      token,
      body: { request_id: rid(), body: {}, manage_by: Array(5_000).fill('x') },
    });
    expectError(reply, 422, 'RequestValidationError');
    const lines = fieldLines(reply);
    expect(lines).toHaveLength(101);
    expect(lines[99]).toMatch(/^Field '\$\.manage_by\[99\]' /);
    // 5,000 principals and the list's length.
    expect(lines[100]).toBe('and 4901 more issues');
  });

  it('allowed_clients takes 1,000 items and answers 1,001 with 422', async () => {
    const { call } = setup();
    const body = (n: number) => ({ request_id: rid(), body: {}, allowed_clients: Array(n).fill('public') });
    expect((await call('POST', '/run', { token, body: body(1000) })).status).toBe(202);
    expectError(await call('POST', '/run', { token, body: body(1001) }), 422, 'RequestValidationError');
  });
});

describe('request_id', () => {
  it('may be empty (the spec sets no minimum, as the Python toolkit accepts), and is idempotent like any other', async () => {
    const { client } = setup();
    const first = await client.run({ request_id: '', body: {} });
    expect([first.status, (await client.run({ request_id: '', body: {} })).status]).toEqual([202, 200]);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['a control character', 'a\u001fb'],
    ['DEL', 'a\u007f'],
    ['a C1 control', '\u0085'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['513 characters', 'x'.repeat(513)],
  ])('holding %s is 422', async (_name, requestId) => {
    const reply = await setup().call('POST', '/run', { token, body: { request_id: requestId, body: {} } });
    expectError(reply, 422, 'RequestValidationError');
    expect(fieldLines(reply)).toEqual([expect.stringMatching(/^Field '\$\.request_id' /)]);
  });

  it('of 512 characters outside the BMP (four bytes each) is accepted', async () => {
    expect((await setup().client.run({ request_id: '😀'.repeat(512), body: {} })).status).toBe(202);
  });
});

describe('nothing half-stored', () => {
  it('a run whose answer cannot be stored leaves no placeholder: the retry runs at once', async () => {
    const base = memoryStore();
    let failNext = true;
    const store: ActionStore = {
      ...Object.fromEntries(
        (['create', 'get', 'delete', 'list', 'deleteExpired'] as const).map((m) => [m, base[m].bind(base)]),
      ),
      update: async (r: ActionRecord) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        return base.update(r);
      },
    } as ActionStore;
    const { call } = setup(store);
    const body = { request_id: rid(), body: {} };
    expectError(await call('POST', '/run', { token, body }), 500, 'ActionProviderError');
    expect(base.size).toBe(0);
    expect((await call('POST', '/run', { token, body })).status).toBe(202);
  });

  it('an action stored with a release_after no date can take (older data) can still be canceled and expires', async () => {
    const store = memoryStore();
    const provider = testProvider({ store });
    const id = rid();
    await store.create(
      record({
        action_id: id,
        creator_id: urn(USERS.creator),
        request: storedRequest(id, {}),
        release_after: 'PT1e+21S',
        version: 2,
      }),
    );
    const reply = await inProcessClient(provider, { token }).cancel(id);
    expect([reply.status, reply.body.status]).toEqual([200, 'FAILED']);
    expect(Number.isFinite((await store.get(id))?.expires_at)).toBe(true);
  });
});
