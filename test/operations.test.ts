/**
 * @module test/operations: status, cancel, release, resume and log on an existing action, in
 * both route families, and the lifecycle rules the toolkit owns.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ActionContext, ActionUpdate, LogContext, LogPage, RunContext } from '../src/index.ts';
import { rid, TRANSPORTS, testAuth, testProvider, tokens, USERS, urn } from './helpers.ts';
import { connect, expectError, FORMS, field, start } from './operations-fixtures.ts';
import { STATUS_KEYS as STANDARD_STATUS_KEYS } from './run-support.ts';

const T = await tokens();
const SECRET = 'state-secret-7f3a';

/** Run: ACTIVE (or body.status), with private state. */
const run = ({ request }: RunContext<unknown>): ActionUpdate => ({
  status: (field(request.body, 'status') as ActionUpdate['status'] | undefined) ?? 'ACTIVE',
  details: { step: 'run' },
  state: { secret: SECRET },
});

/** Every response body must be free of `state` and its content. */
function expectNoState(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain('"state"');
}

const STATUS_KEYS = [...STANDARD_STATUS_KEYS].sort();

describe.each(TRANSPORTS)('operations ($name)', (transport) => {
  describe.each(FORMS.status)('status $name', (form) => {
    it('returns the stored action with every standard key, without a status callback', async () => {
      const call = await connect(transport, testProvider({ run }));
      const action = await start(call, T.creator, { label: 'Mine' });
      expect(Object.keys(action).sort()).toEqual(STATUS_KEYS);
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual(action);
      expect(reply.json).toMatchObject({
        status: 'ACTIVE',
        creator_id: urn(USERS.creator),
        label: 'Mine',
        monitor_by: [urn(USERS.creator)],
        manage_by: [urn(USERS.creator)],
        completion_time: null,
        release_after: 'P30D',
        details: { step: 'run' },
      });
      expect(reply.json.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
      expectNoState(reply.text);
    });

    it('unknown id → 404 ActionNotFound', async () => {
      const call = await connect(transport, testProvider({ run }));
      expectError(await call(form.method, form.path('no-such-action'), { token: T.creator }), 404, 'ActionNotFound');
    });

    it('stores the status callback result; later reads see it', async () => {
      let polls = 0;
      const status = vi.fn(
        async (_: ActionContext): Promise<ActionUpdate> => ({
          status: 'ACTIVE',
          details: { polls: ++polls },
          state: { secret: SECRET, polls },
        }),
      );
      const provider = testProvider({ run, status });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      const first = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(first.json.details).toEqual({ polls: 1 });
      expectNoState(first.text);
      const stored = await provider.actions.get(action.action_id);
      expect(stored?.details).toEqual({ polls: 1 });
      expect(stored?.state).toEqual({ secret: SECRET, polls: 1 });
      // enumerate reads the store, without calling back
      const listed = await call('GET', '/actions', { token: T.creator });
      expect(listed.json).toEqual([first.json]);
      expect(status).toHaveBeenCalledTimes(1);
      // the callback sees the previous result as the loaded action
      const second = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(second.json.details).toEqual({ polls: 2 });
      expect(status.mock.calls[1]?.[0]?.action.details).toEqual({ polls: 1 });
    });

    it('an update without details keeps the stored details', async () => {
      const call = await connect(transport, testProvider({ run, status: () => ({ status: 'ACTIVE' }) }));
      const action = await start(call, T.creator);
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.json.details).toEqual({ step: 'run' });
    });

    it('sets completion_time when the action first completes, and never changes it', async () => {
      let now = Date.now();
      const clock = () => now;
      const status = vi.fn((): ActionUpdate => ({ status: 'SUCCEEDED', details: { done: true } }));
      const provider = testProvider({ run, status, clock, auth: testAuth(clock) });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      expect(action.completion_time).toBeNull();
      now += 5_000;
      const done = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(done.json.status).toBe('SUCCEEDED');
      expect(done.json.completion_time).toBe(new Date(now).toISOString().replace('Z', '+00:00'));
      expect(done.json.display_status).toBe('SUCCEEDED');
      now += 5_000;
      await provider.actions.update(action.action_id, { details: { done: true, more: 1 } });
      const later = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(later.json.completion_time).toBe(done.json.completion_time);
      expect(later.json.details).toEqual({ done: true, more: 1 });
      // the status callback is not called for a completed action
      expect(status).toHaveBeenCalledTimes(1);
    });

    it('a completed action is served without calling the status callback', async () => {
      const status = vi.fn((): ActionUpdate => ({ status: 'ACTIVE' }));
      const call = await connect(transport, testProvider({ run, status }));
      for (const final of ['SUCCEEDED', 'FAILED']) {
        const action = await start(call, T.creator, {}, { status: final });
        expect(action.completion_time).not.toBeNull();
        const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
        expect(reply.json).toEqual(action);
      }
      expect(status).not.toHaveBeenCalled();
    });
  });

  describe('display_status defaults', () => {
    it('is the status after run when run sets none', async () => {
      const call = await connect(transport, testProvider({ run: () => ({ status: 'ACTIVE' }) }));
      const action = await start(call, T.creator);
      expect(action.display_status).toBe('ACTIVE');
      const inactive = await connect(transport, testProvider({ run: () => ({ status: 'INACTIVE' }) }));
      expect((await start(inactive, T.creator)).display_status).toBe('INACTIVE');
    });

    it('follows a status change, is kept while the status is unchanged, and an explicit one wins', async () => {
      const next: ActionUpdate[] = [
        { status: 'ACTIVE', display_status: 'Queued' },
        { status: 'ACTIVE' },
        { status: 'INACTIVE' },
        { status: 'INACTIVE', display_status: 'Waiting for consent' },
        { status: 'ACTIVE', display_status: null },
        { status: 'FAILED' },
      ];
      const call = await connect(transport, testProvider({ run, status: () => next.shift() as ActionUpdate }));
      const action = await start(call, T.creator);
      const seen: string[] = [];
      for (let i = 0; i < 6; i++)
        seen.push((await call('GET', `/actions/${action.action_id}`, { token: T.creator })).json.display_status);
      expect(seen).toEqual(['Queued', 'Queued', 'INACTIVE', 'Waiting for consent', 'ACTIVE', 'FAILED']);
    });
  });

  describe.each(FORMS.cancel)('cancel $name', (form) => {
    it('without a callback, marks an ACTIVE action FAILED with {code, description}', async () => {
      const provider = testProvider({ run });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toMatchObject({ action_id: action.action_id, status: 'FAILED' });
      expect(reply.json.details).toEqual({ code: expect.any(String), description: expect.any(String) });
      expect(reply.json.completion_time).not.toBeNull();
      expectNoState(reply.text);
      expect(await provider.actions.get(action.action_id)).toMatchObject({
        status: 'FAILED',
        state: { secret: SECRET },
      });
    });

    it('without a callback, marks an INACTIVE action FAILED', async () => {
      const call = await connect(transport, testProvider({ run }));
      const action = await start(call, T.creator, {}, { status: 'INACTIVE' });
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.json.status).toBe('FAILED');
    });

    it('returns a completed action unchanged, without calling the callback', async () => {
      const cancel = vi.fn((): ActionUpdate => ({ status: 'FAILED', details: { canceled: true } }));
      for (const provider of [testProvider({ run }), testProvider({ run, cancel })]) {
        const call = await connect(transport, provider);
        for (const final of ['SUCCEEDED', 'FAILED']) {
          const action = await start(call, T.creator, {}, { status: final });
          const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
          expect(reply.status).toBe(200);
          expect(reply.json).toEqual(action);
        }
      }
      expect(cancel).not.toHaveBeenCalled();
    });

    it('stores the cancel callback result', async () => {
      const cancel = vi.fn(
        (): ActionUpdate => ({ status: 'INACTIVE', display_status: 'Canceling', details: { canceling: true } }),
      );
      const provider = testProvider({ run, cancel });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.json).toMatchObject({
        status: 'INACTIVE',
        display_status: 'Canceling',
        details: { canceling: true },
        completion_time: null,
      });
      expect((await provider.actions.get(action.action_id))?.display_status).toBe('Canceling');
      expect(cancel).toHaveBeenCalledTimes(1);
    });

    it('unknown id → 404', async () => {
      const call = await connect(transport, testProvider({ run }));
      expectError(await call(form.method, form.path('no-such-action'), { token: T.creator }), 404, 'ActionNotFound');
    });
  });

  describe.each(FORMS.release)('release $name', (form) => {
    it('→ 409 ActionConflict while ACTIVE or INACTIVE, and the action stays', async () => {
      const release = vi.fn();
      const provider = testProvider({ run, release });
      const call = await connect(transport, provider);
      for (const status of ['ACTIVE', 'INACTIVE']) {
        const action = await start(call, T.creator, {}, { status });
        expectError(await call(form.method, form.path(action.action_id), { token: T.creator }), 409, 'ActionConflict');
        expect((await call('GET', `/actions/${action.action_id}`, { token: T.creator })).json).toEqual(action);
      }
      expect(release).not.toHaveBeenCalled();
    });

    it('of a completed action: 200 with the final status, then 404 everywhere, request_id free', async () => {
      const release = vi.fn();
      const provider = testProvider({
        run,
        release,
        resume: () => ({ status: 'ACTIVE' }),
        log: () => ({ entries: [] }),
      });
      const call = await connect(transport, provider);
      const requestId = rid();
      const first = await call('POST', '/run', {
        token: T.creator,
        body: { request_id: requestId, body: { status: 'SUCCEEDED' } },
      });
      expect(first.status).toBe(202);
      const id = first.json.action_id as string;
      const reply = await call(form.method, form.path(id), { token: T.creator });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual(first.json);
      expectNoState(reply.text);
      expect(release).toHaveBeenCalledTimes(1);
      for (const forms of Object.values(FORMS)) {
        for (const f of forms)
          expectError(await call(f.method, f.path(id), { token: T.creator }), 404, 'ActionNotFound');
      }
      expect(await provider.actions.get(id)).toBeUndefined();
      expect(await provider.store.get(id)).toBeUndefined();
      expect((await call('GET', '/actions?status=succeeded', { token: T.creator })).json).toEqual([]);
      const again = await call('POST', '/run', {
        token: T.creator,
        body: { request_id: requestId, body: { status: 'SUCCEEDED' } },
      });
      expect(again.status).toBe(202);
      expect(again.json.action_id).not.toBe(id);
      expect(release).toHaveBeenCalledTimes(1);
    });

    it('the release callback receives the loaded action before it is deleted', async () => {
      let seen: ActionContext | undefined;
      let storedDuringCallback: unknown;
      const provider = testProvider({
        run,
        release: async (context) => {
          seen = context;
          storedDuringCallback = await provider.store.get(context.action.action_id);
        },
      });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator, {}, { status: 'FAILED' });
      expect((await call(form.method, form.path(action.action_id), { token: T.creator })).status).toBe(200);
      expect(seen?.action).toMatchObject({
        ...action,
        state: { secret: SECRET },
        request: { body: { status: 'FAILED' } },
      });
      expect(seen?.caller.identity).toBe(urn(USERS.creator));
      expect(seen?.signal).toBeInstanceOf(AbortSignal);
      expect(storedDuringCallback).toBeDefined();
    });

    it('a release callback that fails keeps the action', async () => {
      const provider = testProvider({
        run,
        release: () => {
          throw new Error('cleanup failed');
        },
      });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator, {}, { status: 'SUCCEEDED' });
      expectError(
        await call(form.method, form.path(action.action_id), { token: T.creator }),
        500,
        'ActionProviderError',
      );
      expect((await call('GET', `/actions/${action.action_id}`, { token: T.creator })).status).toBe(200);
    });
  });

  describe.each(FORMS.resume)('resume $name', (form) => {
    it('without a callback → 501 NotImplemented', async () => {
      const call = await connect(transport, testProvider({ run }));
      const action = await start(call, T.creator, {}, { status: 'INACTIVE' });
      expectError(await call(form.method, form.path(action.action_id), { token: T.creator }), 501, 'NotImplemented');
      expectError(await call(form.method, form.path('no-such-action'), { token: T.creator }), 404, 'ActionNotFound');
    });

    it('stores the resume callback result', async () => {
      const resume = vi.fn(
        (): ActionUpdate => ({ status: 'ACTIVE', display_status: 'Resumed', state: { secret: SECRET, resumed: true } }),
      );
      const provider = testProvider({ run, resume });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator, {}, { status: 'INACTIVE' });
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({ status: 'ACTIVE', display_status: 'Resumed', details: { step: 'run' } });
      expectNoState(reply.text);
      expect(await provider.actions.get(action.action_id)).toMatchObject({
        status: 'ACTIVE',
        state: { secret: SECRET, resumed: true },
      });
      expect(resume).toHaveBeenCalledTimes(1);
    });

    it('returns a completed action unchanged, without calling the callback', async () => {
      const resume = vi.fn((): ActionUpdate => ({ status: 'ACTIVE' }));
      const call = await connect(transport, testProvider({ run, resume }));
      const action = await start(call, T.creator, {}, { status: 'SUCCEEDED' });
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.json).toEqual(action);
      expect(resume).not.toHaveBeenCalled();
    });
  });

  describe.each(FORMS.log)('log $name', (form) => {
    function logProvider() {
      const log = vi.fn(
        ({ limit, marker }: LogContext): LogPage => ({
          entries: [{ n: 1, limit, marker }],
          has_next_page: true,
          marker: 'next-page',
        }),
      );
      return { log, provider: testProvider({ run, log }) };
    }

    it('answers {entries, has_next_page, limit, marker} with the default limit', async () => {
      const { log, provider } = logProvider();
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({
        entries: [{ n: 1, limit: 10, marker: null }],
        has_next_page: true,
        limit: 10,
        marker: 'next-page',
      });
      expect(log).toHaveBeenCalledTimes(1);
      expect(log.mock.calls[0]?.[0]).toMatchObject({ limit: 10, marker: null });
    });

    it('passes limit and marker, and pagination_token as an alias of marker', async () => {
      const { log, provider } = logProvider();
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      const path = form.path(action.action_id);
      const a = await call(form.method, `${path}?limit=3&marker=m1`, { token: T.creator });
      expect(a.json).toMatchObject({ limit: 3, entries: [{ limit: 3, marker: 'm1' }] });
      const b = await call(form.method, `${path}?pagination_token=p2&limit=1000`, { token: T.creator });
      expect(b.json).toMatchObject({ limit: 1000, entries: [{ limit: 1000, marker: 'p2' }] });
      const c = await call(form.method, `${path}?limit=1`, { token: T.creator });
      expect(c.json).toMatchObject({ limit: 1, entries: [{ marker: null }] });
      expect(log).toHaveBeenCalledTimes(3);
    });

    it('a minimal page gets has_next_page false and marker null', async () => {
      const call = await connect(transport, testProvider({ run, log: () => ({ entries: [] }) }));
      const action = await start(call, T.creator);
      const reply = await call(form.method, form.path(action.action_id), { token: T.creator });
      expect(reply.json).toEqual({ entries: [], has_next_page: false, limit: 10, marker: null });
    });

    it.each(['0', '-1', 'abc', '1.5', '1001', '', '1e9'])('limit=%s → 422', async (limit) => {
      const { log, provider } = logProvider();
      const call = await connect(transport, provider);
      const action = await start(call, T.creator);
      const reply = await call(form.method, `${form.path(action.action_id)}?limit=${limit}`, { token: T.creator });
      expectError(reply, 422, 'RequestValidationError');
      expect(reply.json.description).toContain('limit');
      expect(log).not.toHaveBeenCalled();
    });

    it('without a log callback → 501 NotImplemented (404 for an unknown id)', async () => {
      const call = await connect(transport, testProvider({ run }));
      const action = await start(call, T.creator);
      expectError(await call(form.method, form.path(action.action_id), { token: T.creator }), 501, 'NotImplemented');
      expectError(await call(form.method, form.path('no-such-action'), { token: T.creator }), 404, 'ActionNotFound');
    });

    it('a log callback that returns a malformed page → 500', async () => {
      const call = await connect(transport, testProvider({ run, log: () => ({ entries: 'nope' }) as never }));
      const action = await start(call, T.creator);
      expectError(
        await call(form.method, form.path(action.action_id), { token: T.creator }),
        500,
        'ActionProviderError',
      );
    });
  });

  describe('callback context', () => {
    it('status, cancel, resume and log receive the loaded action, the caller and a signal', async () => {
      const contexts: Record<string, ActionContext> = {};
      const provider = testProvider({
        run,
        status: (context) => {
          contexts['status'] = context;
          return { status: 'INACTIVE', state: { secret: SECRET, by: 'status' } };
        },
        resume: (context) => {
          contexts['resume'] = context;
          return { status: 'ACTIVE', state: { secret: SECRET, by: 'resume' } };
        },
        cancel: (context) => {
          contexts['cancel'] = context;
          return { status: 'FAILED', details: { canceled: true } };
        },
        log: (context) => {
          contexts['log'] = context;
          return { entries: [] };
        },
      });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator, { label: 'ctx', manage_by: [urn(USERS.manager)] }, { x: 1 });
      const id = action.action_id;
      await call('GET', `/actions/${id}`, { token: T.creator });
      await call('GET', `/actions/${id}/log`, { token: T.creator });
      await call('POST', `/actions/${id}/resume`, { token: T.manager });
      await call('POST', `/actions/${id}/cancel`, { token: T.creator });
      expect(Object.keys(contexts).sort()).toEqual(['cancel', 'log', 'resume', 'status']);
      for (const context of Object.values(contexts)) {
        expect(context.action.action_id).toBe(id);
        expect(context.action.request).toMatchObject({
          body: { x: 1 },
          label: 'ctx',
          manage_by: [urn(USERS.manager)],
          request_id: expect.any(String),
        });
        expect(context.signal).toBeInstanceOf(AbortSignal);
        expect(typeof context.waitUntil).toBe('function');
      }
      expect(contexts['status']?.action.state).toEqual({ secret: SECRET });
      expect(contexts['status']?.action.status).toBe('ACTIVE');
      expect(contexts['log']?.action.state).toEqual({ secret: SECRET, by: 'status' });
      expect(contexts['resume']?.action.status).toBe('INACTIVE');
      expect(contexts['resume']?.caller.identity).toBe(urn(USERS.manager));
      expect(contexts['cancel']?.action.state).toEqual({ secret: SECRET, by: 'resume' });
      expect(contexts['cancel']?.caller.identities).toEqual([urn(USERS.creator), urn(USERS.creatorLinked)]);
    });

    it('state set by callbacks never appears in any response', async () => {
      const provider = testProvider({
        run,
        status: () => ({ status: 'SUCCEEDED', state: { secret: SECRET, more: SECRET } }),
        log: () => ({ entries: [] }),
      });
      const call = await connect(transport, provider);
      const requestId = rid();
      const created = await call('POST', '/run', { token: T.creator, body: { request_id: requestId, body: {} } });
      expectNoState(created.text);
      const id = created.json.action_id as string;
      const replies = [
        await call('POST', '/run', { token: T.creator, body: { request_id: requestId, body: {} } }),
        await call('GET', `/${id}/status`, { token: T.creator }),
        await call('GET', `/actions/${id}`, { token: T.creator }),
        await call('GET', '/actions?status=succeeded,active', { token: T.creator }),
        await call('POST', `/actions/${id}/cancel`, { token: T.creator }),
        await call('DELETE', `/actions/${id}`, { token: T.creator }),
      ];
      for (const reply of replies) {
        expect(reply.status, reply.text).toBeLessThan(300);
        expectNoState(reply.text);
      }
      expect(replies[3]?.json).toHaveLength(1);
    });
  });

  describe('expiry without a sweep', () => {
    it('a completed action with release_after PT60S is served before 60 s and 404 after', async () => {
      let now = Date.now();
      const clock = () => now;
      const provider = testProvider({ run, clock, auth: testAuth(clock), log: () => ({ entries: [] }) });
      const call = await connect(transport, provider);
      const requestId = rid();
      const body = { request_id: requestId, body: { status: 'SUCCEEDED' }, release_after: 'PT60S' };
      const created = await call('POST', '/run', { token: T.creator, body });
      expect(created.status).toBe(202);
      expect(created.json.release_after).toBe('PT60S');
      const id = created.json.action_id as string;
      now += 59_999;
      expect((await call('GET', `/actions/${id}`, { token: T.creator })).status).toBe(200);
      expect((await call('GET', '/actions?status=succeeded', { token: T.creator })).json).toHaveLength(1);
      expect(await provider.actions.get(id)).toBeDefined();
      now += 1;
      for (const forms of Object.values(FORMS)) {
        for (const f of forms)
          expectError(await call(f.method, f.path(id), { token: T.creator }), 404, 'ActionNotFound');
      }
      expect((await call('GET', '/actions?status=succeeded', { token: T.creator })).json).toEqual([]);
      expect(await provider.actions.get(id)).toBeUndefined();
      await expect(provider.actions.update(id, { details: {} })).rejects.toMatchObject({ code: 'ActionNotFound' });
      // no sweep ran: the record is still in the store, yet its request_id is free
      expect(await provider.store.get(id)).toBeDefined();
      const again = await call('POST', '/run', { token: T.creator, body });
      expect(again.status).toBe(202);
      expect(again.json.action_id).not.toBe(id);
    });

    it('an active action does not expire, and its clock starts at completion', async () => {
      let now = Date.now();
      const clock = () => now;
      const provider = testProvider({ run, clock, auth: testAuth(clock) });
      const call = await connect(transport, provider);
      const action = await start(call, T.creator, { release_after: 60 });
      expect(action.release_after).toBe('PT60S');
      now += 120_000;
      expect((await call('GET', `/actions/${action.action_id}`, { token: T.creator })).status).toBe(200);
      await provider.actions.update(action.action_id, { status: 'SUCCEEDED' });
      now += 59_000;
      expect((await call('GET', `/actions/${action.action_id}`, { token: T.creator })).json.status).toBe('SUCCEEDED');
      now += 1_000;
      expectError(await call('GET', `/actions/${action.action_id}`, { token: T.creator }), 404, 'ActionNotFound');
    });
  });
});
