/** @module test/actions-api: `provider.actions.get` / `update`, for background jobs and webhooks. */
import { describe, expect, it } from 'vitest';
import { ActionError, type ActionUpdate } from '../src/index.ts';
import { rid, start } from './support/actions.ts';
import { testAuth, tokens, USERS, urn } from './support/identities.ts';
import { field, testProvider } from './support/providers.ts';
import { slowUpdateStore } from './support/stores.ts';
import { inProcessClient } from './support/transports.ts';

const T = await tokens();

/** A provider whose run keeps state, and the creator's clients (legacy routes and `/actions`). */
function setup(options: Parameters<typeof testProvider>[0] = {}) {
  const provider = testProvider({
    run: ({ request }) => ({
      status: (field(request.body, 'status') as ActionUpdate['status'] | undefined) ?? 'ACTIVE',
      details: { step: 'run' },
      state: { job: 42 },
    }),
    ...options,
  });
  return {
    provider,
    client: inProcessClient(provider, { token: T.creator }),
    actions: inProcessClient(provider, { token: T.creator, routes: 'actions' }),
  };
}

describe('provider.actions', () => {
  it('get returns the action with its request and state, undefined for an unknown id', async () => {
    const { provider, client } = setup();
    const action = await start(client, { label: 'job' }, { x: 1 });
    const view = await provider.actions.get(action.action_id);
    expect(view).toEqual({
      ...action,
      request: expect.objectContaining({ body: { x: 1 }, label: 'job', request_id: expect.any(String) }),
      state: { job: 42 },
    });
    expect(await provider.actions.get('no-such-action')).toBeUndefined();
  });

  it('update moves an action to SUCCEEDED, sets completion_time, and clients see it', async () => {
    let now = Date.now();
    const clock = () => now;
    const { provider, client, actions } = setup({ clock, auth: testAuth(clock) });
    const action = await start(client);
    now += 1234;
    const updated = await provider.actions.update(action.action_id, {
      status: 'SUCCEEDED',
      details: { result: 7 },
      state: { job: null },
    });
    expect(updated).toEqual({
      ...action,
      status: 'SUCCEEDED',
      details: { result: 7 },
      display_status: 'SUCCEEDED',
      completion_time: new Date(now).toISOString().replace('Z', '+00:00'),
    });
    expect(updated).not.toHaveProperty('state');
    expect((await actions.status(action.action_id)).body).toEqual(updated);
    expect((await provider.actions.get(action.action_id))?.state).toEqual({ job: null });
  });

  it('a patch without status keeps the current status and the fields it omits', async () => {
    const { provider, client } = setup();
    const action = await start(client, {}, { status: 'INACTIVE' });
    const a = await provider.actions.update(action.action_id, { display_status: 'Waiting' });
    expect(a).toMatchObject({
      status: 'INACTIVE',
      display_status: 'Waiting',
      details: { step: 'run' },
      completion_time: null,
    });
    const b = await provider.actions.update(action.action_id, { details: { progress: 0.5 } });
    expect(b).toMatchObject({ status: 'INACTIVE', display_status: 'Waiting', details: { progress: 0.5 } });
    const c = await provider.actions.update(action.action_id, {});
    expect(c).toEqual(b);
    expect((await provider.actions.get(action.action_id))?.state).toEqual({ job: 42 });
  });

  it.each([
    ['an unknown status', { status: 'DONE' }],
    ['a status in lower case', { status: 'succeeded' }],
    ['details that are not an object', { details: [1, 2] }],
    ['details null', { details: null }],
    ['an empty display_status', { display_status: '' }],
    ['a display_status of 65 characters', { display_status: 'x'.repeat(65) }],
    ['state that is not an object', { state: 'job-1' }],
    ['null', null],
    ['a string', 'SUCCEEDED'],
  ])('a malformed patch (%s) throws a TypeError and changes nothing', async (_, patch) => {
    const { provider, client } = setup();
    const action = await start(client);
    const before = await provider.actions.get(action.action_id);
    await expect(provider.actions.update(action.action_id, patch as never)).rejects.toBeInstanceOf(TypeError);
    expect(await provider.actions.get(action.action_id)).toEqual(before);
  });

  it('an unknown id throws ActionError ActionNotFound', async () => {
    const { provider } = setup();
    const error = await provider.actions.update('no-such-action', { status: 'SUCCEEDED' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionError);
    expect(error).toMatchObject({ code: 'ActionNotFound', status: 404 });
  });

  it('a released action is gone for update too', async () => {
    const { provider, client, actions } = setup();
    const action = await start(client, {}, { status: 'SUCCEEDED' });
    expect((await actions.release(action.action_id)).status).toBe(200);
    await expect(provider.actions.update(action.action_id, { details: {} })).rejects.toMatchObject({
      code: 'ActionNotFound',
    });
  });

  it('a completed action cannot be reopened (ActionConflict), but may gain details', async () => {
    const { provider, client } = setup();
    for (const final of ['SUCCEEDED', 'FAILED'] as const) {
      const action = await start(client, {}, { status: final });
      for (const status of ['ACTIVE', 'INACTIVE', final === 'SUCCEEDED' ? 'FAILED' : 'SUCCEEDED'] as const) {
        const error = await provider.actions.update(action.action_id, { status }).catch((e: unknown) => e);
        expect(error, status).toBeInstanceOf(ActionError);
        expect(error).toMatchObject({ code: 'ActionConflict' });
      }
      const more = await provider.actions.update(action.action_id, { details: { note: 'archived' } });
      expect(more).toMatchObject({
        status: final,
        details: { note: 'archived' },
        completion_time: action.completion_time,
      });
    }
  });

  it('concurrent updates do not lose each other', async () => {
    const { provider, client } = setup({ store: slowUpdateStore(15) });
    const action = await start(client);
    const versionBefore = (await provider.store.get(action.action_id))?.version ?? 0;
    const [a, b] = await Promise.all([
      provider.actions.update(action.action_id, { details: { result: 'from job A' } }),
      provider.actions.update(action.action_id, { display_status: 'Set by B' }),
    ]);
    const final = await provider.actions.get(action.action_id);
    expect(final).toMatchObject({ details: { result: 'from job A' }, display_status: 'Set by B' });
    expect((await provider.store.get(action.action_id))?.version).toBe(versionBefore + 2);
    // the later write saw the earlier one
    const last = [a, b].find((x) => x.display_status === 'Set by B' && x.details['result'] === 'from job A');
    expect(last).toBeDefined();
  });

  it('of two concurrent completions exactly one wins; the other is an ActionConflict', async () => {
    const { provider, client } = setup({ store: slowUpdateStore(15) });
    const action = await start(client);
    const results = await Promise.allSettled([
      provider.actions.update(action.action_id, { status: 'SUCCEEDED', details: { by: 'A' } }),
      provider.actions.update(action.action_id, { status: 'FAILED', details: { by: 'B' } }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toMatchObject({ code: 'ActionConflict' });
    const final = await provider.actions.get(action.action_id);
    expect(final?.status).toBe((won[0] as PromiseFulfilledResult<{ status: string }>).value.status);
  });

  it('a status poll racing a background completion does not reopen the action', async () => {
    const polledStatuses: string[] = [];
    const { provider, client, actions } = setup({
      // The background job completes the action while the status callback is running.
      status: async ({ action }) => {
        polledStatuses.push(action.status);
        if (polledStatuses.length === 1)
          await provider.actions.update(action.action_id, { status: 'SUCCEEDED', details: { result: 'done' } });
        return { status: 'ACTIVE', details: { stale: true } };
      },
    });
    const action = await start(client);
    const polled = await actions.status(action.action_id);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ status: 'SUCCEEDED', details: { result: 'done' } });
    expect(await provider.actions.get(action.action_id)).toMatchObject({
      status: 'SUCCEEDED',
      details: { result: 'done' },
    });
    // the stale answer lost, and the callback was not asked again about a completed action
    expect(polledStatuses).toEqual(['ACTIVE']);
  });

  it('the creator is unchanged by updates, and a request_id stays bound to its action', async () => {
    const { provider, client } = setup();
    const requestId = rid();
    const created = await client.run({ request_id: requestId, body: {} });
    await provider.actions.update(created.body.action_id, { status: 'SUCCEEDED' });
    const again = await client.run({ request_id: requestId, body: {} });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      action_id: created.body.action_id,
      status: 'SUCCEEDED',
      creator_id: urn(USERS.creator),
    });
  });
});
