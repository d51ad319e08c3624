/**
 * @module test/run-idempotency: run (`POST /run`, `POST /actions`): request_id idempotency,
 * sequential and concurrent.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ActionError, type ActionUpdate, memoryStore } from '../src/index.ts';
import { rid } from './support/actions.ts';
import { expectAction, expectError } from './support/assertions.ts';
import { within } from './support/async.ts';
import { mint, tokens, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { connectRun, ROUTES, routesOf } from './support/routes.ts';
import { countingStore } from './support/stores.ts';
import { inProcessClient, type Servable, TRANSPORTS } from './support/transports.ts';

let t: Awaited<ReturnType<typeof tokens>>;
beforeAll(async () => {
  t = await tokens();
});

/** A run callback that counts its calls. */
function counted(result: ActionUpdate = { status: 'ACTIVE', details: { n: 1 } }) {
  const counter = {
    calls: 0,
    run: () => {
      counter.calls++;
      return result;
    },
  };
  return counter;
}

describe.each(TRANSPORTS)('run, idempotency ($name)', (transport) => {
  describe.each(ROUTES)('POST %s', (route) => {
    const open = (provider: Servable) => connectRun(transport, route, provider);

    it('answers a repeat of the same request by the same caller with 200 and the same action, without running again', async () => {
      const counter = counted();
      const { run } = await open(testProvider({ run: counter.run }));
      const request = { request_id: rid(), body: { a: 1, b: [1, 2] }, label: 'once' };
      const first = await run(t.creator, request);
      expectAction(first, 202);
      const second = await run(t.creator, request);
      expectAction(second, 200);
      expect(second.body).toEqual(first.body);
      expect(counter.calls).toBe(1);
    });

    it('treats key order, an ignored field and a numeric request_id as the same request', async () => {
      const counter = counted();
      const { raw } = await open(testProvider({ run: counter.run }));
      // A numeric request_id, and key order of our own choosing: both raw.
      const first = await raw('POST', route, {
        token: t.creator,
        body: { request_id: 1, body: { a: 1, b: 2 }, label: 'l' },
      });
      expectAction(first, 202);
      const again = await raw('POST', route, {
        token: t.creator,
        raw: '{"label":"l","body":{"b":2,"a":1},"request_id":"1","tags":["x"]}',
      });
      expectAction(again, 200);
      expect(again.body.action_id).toBe(first.body.action_id);
      expect(counter.calls).toBe(1);
    });

    it('answers the same request_id with a different request by 409 ActionConflict', async () => {
      const counter = counted();
      const { run } = await open(testProvider({ run: counter.run }));
      const requestId = rid();
      expectAction(await run(t.creator, { request_id: requestId, body: { a: 1 } }), 202);
      expectError(await run(t.creator, { request_id: requestId, body: { a: 2 } }), 409, 'ActionConflict');
      expectError(
        await run(t.creator, { request_id: requestId, body: { a: 1 }, label: 'new label' }),
        409,
        'ActionConflict',
      );
      expect(counter.calls).toBe(1);
    });

    it('starts a new action when another caller reuses a request_id', async () => {
      const counter = counted();
      const { run } = await open(testProvider({ run: counter.run }));
      const request = { request_id: rid(), body: { a: 1 } };
      const mine = await run(t.creator, request);
      expectAction(mine, 202);
      const theirs = await run(t.stranger, request);
      expectAction(theirs, 202);
      expect(theirs.body.action_id).not.toBe(mine.body.action_id);
      expect(theirs.body.creator_id).toBe(urn(USERS.stranger));
      // A different body from the other caller is no conflict either.
      expectAction(await run(t.monitor, { ...request, body: { other: true } }), 202);
      expect(counter.calls).toBe(3);
    });

    it('starts a new action for a request_id whose action was released', async () => {
      const counter = counted({ status: 'SUCCEEDED', details: { done: true } });
      const { run, client } = await open(testProvider({ run: counter.run }));
      const request = { request_id: rid(), body: { a: 1 } };
      const first = await run(t.creator, request);
      expectAction(first, 202);
      expect(first.body.status).toBe('SUCCEEDED');
      const released = await client(t.creator, routesOf(route)).release(first.body.action_id);
      expect(released.status, released.text).toBe(200);
      const again = await run(t.creator, request);
      expectAction(again, 202);
      expect(again.body.action_id).not.toBe(first.body.action_id);
      expect(counter.calls).toBe(2);
    });

    it('answers 50 concurrent identical requests with exactly one 202, the rest 200 with the same action, and runs once', async () => {
      const n = 50;
      const { store, allArrived } = countingStore(n);
      let calls = 0;
      const { run } = await open(
        testProvider({
          store,
          run: async () => {
            calls++;
            // Hold run until every duplicate has reached the store, so all of them overlap it.
            await within(allArrived, 10_000, 'not every request reached the store');
            return { status: 'ACTIVE', details: { slow: true } };
          },
        }),
      );
      const request = { request_id: rid(), body: { same: true } };
      const replies = await Promise.all(Array.from({ length: n }, () => run(t.creator, request)));
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(n - 1);
      const created = replies.find((reply) => reply.status === 202);
      for (const reply of replies) {
        expectAction(reply, reply.status as 200 | 202);
        // Every duplicate waited for run's answer rather than returning the half-started action.
        expect(reply.body).toEqual(created?.body);
      }
      expect(created?.body.details).toEqual({ slow: true });
      expect(calls).toBe(1);
    });

    it('answers concurrent different requests with one request_id by one 202 and 409 for the others', async () => {
      const n = 10;
      const { store, allArrived } = countingStore(n);
      let calls = 0;
      const { run } = await open(
        testProvider({
          store,
          run: async ({ request }) => {
            calls++;
            await within(allArrived, 10_000, 'not every request reached the store');
            return { status: 'ACTIVE', details: { body: request.body } };
          },
        }),
      );
      const requestId = rid();
      const replies = await Promise.all(
        Array.from({ length: n }, (_, i) => run(t.creator, { request_id: requestId, body: { i } })),
      );
      const created = replies.filter((reply) => reply.status === 202);
      expect(created).toHaveLength(1);
      expectAction(created[0]!, 202);
      for (const reply of replies) if (reply.status !== 202) expectError(reply, 409, 'ActionConflict');
      expect(calls).toBe(1);
    });
  });
});

describe('a run whose answer and placeholder could not be written (the store went down mid-run)', () => {
  it('is run again at once by a retry on the same instance, not after runTimeout', async () => {
    const inner = memoryStore();
    let down = false;
    const unavailable = () => new ActionError('ServiceUnavailable', 'The action store is unavailable');
    const store = {
      ...inner,
      update: (record: Parameters<typeof inner.update>[0]) =>
        down ? Promise.reject(unavailable()) : inner.update(record),
      delete: (id: string) => (down ? Promise.reject(unavailable()) : inner.delete(id)),
    };
    let runs = 0;
    const provider = testProvider({
      store,
      runTimeout: 30_000,
      run: () => {
        runs++;
        down = runs === 1; // the store fails right after the first run's placeholder was stored
        return { status: 'SUCCEEDED', details: { runs } };
      },
    });
    const client = inProcessClient(provider, { token: await mint(USERS.creator) });
    const first = await client.run({ request_id: 'mid-run', body: {} });
    expect(first.status).toBe(503);
    down = false;
    const started = performance.now();
    const retry = await client.run({ request_id: 'mid-run', body: {} });
    expect(retry.status).toBe(202);
    expect(retry.body.details).toEqual({ runs: 2 });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
