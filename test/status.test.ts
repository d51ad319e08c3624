/**
 * @module test/status: `GET /{id}/status` and `GET /actions/{id}`: the stored action, the status
 * callback's result kept, completion, and HEAD.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ActionContext, ActionUpdate } from '../src/index.ts';
import { expectNoState, runWithState as run, SECRET, start } from './support/actions.ts';
import { expectError, STATUS_KEYS } from './support/assertions.ts';
import { mint, testAuth, tokens, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { rawCaller } from './support/raw.ts';
import { FORMS } from './support/routes.ts';
import { connect, inProcessClient, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('status ($name)', (transport) => {
  describe.each(FORMS.status)('$name', (form) => {
    it('returns the stored action with every standard key, without a status callback', async () => {
      const connection = await connect(transport, testProvider({ run }));
      const action = await start(connection.client(T.creator), { label: 'Mine' });
      expect(Object.keys(action).sort()).toEqual([...STATUS_KEYS].sort());
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(action);
      expect(reply.body).toMatchObject({
        status: 'ACTIVE',
        creator_id: urn(USERS.creator),
        label: 'Mine',
        monitor_by: [urn(USERS.creator)],
        manage_by: [urn(USERS.creator)],
        completion_time: null,
        release_after: 'P30D',
        details: { step: 'run' },
      });
      expect(reply.body.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
      expectNoState(reply.text);
    });

    it('unknown id → 404 ActionNotFound', async () => {
      const connection = await connect(transport, testProvider({ run }));
      expectError(await form.send(connection, 'no-such-action', T.creator), 404, 'ActionNotFound');
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
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      const first = await form.send(connection, action.action_id, T.creator);
      expect(first.body.details).toEqual({ polls: 1 });
      expectNoState(first.text);
      const stored = await provider.actions.get(action.action_id);
      expect(stored?.details).toEqual({ polls: 1 });
      expect(stored?.state).toEqual({ secret: SECRET, polls: 1 });
      // enumerate reads the store, without calling back
      const listed = await connection.client(T.creator).enumerate();
      expect(listed.body).toEqual([first.body]);
      expect(status).toHaveBeenCalledTimes(1);
      // the callback sees the previous result as the loaded action
      const second = await form.send(connection, action.action_id, T.creator);
      expect(second.body.details).toEqual({ polls: 2 });
      expect(status.mock.calls[1]?.[0]?.action.details).toEqual({ polls: 1 });
    });

    it('an update without details keeps the stored details', async () => {
      const connection = await connect(transport, testProvider({ run, status: () => ({ status: 'ACTIVE' }) }));
      const action = await start(connection.client(T.creator));
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.body.details).toEqual({ step: 'run' });
    });

    it('sets completion_time when the action first completes, and never changes it', async () => {
      let now = Date.now();
      const clock = () => now;
      const status = vi.fn((): ActionUpdate => ({ status: 'SUCCEEDED', details: { done: true } }));
      const provider = testProvider({ run, status, clock, auth: testAuth(clock) });
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      expect(action.completion_time).toBeNull();
      now += 5_000;
      const done = await form.send(connection, action.action_id, T.creator);
      expect(done.body.status).toBe('SUCCEEDED');
      expect(done.body.completion_time).toBe(new Date(now).toISOString().replace('Z', '+00:00'));
      expect(done.body.display_status).toBe('SUCCEEDED');
      now += 5_000;
      await provider.actions.update(action.action_id, { details: { done: true, more: 1 } });
      const later = await form.send(connection, action.action_id, T.creator);
      expect(later.body.completion_time).toBe(done.body.completion_time);
      expect(later.body.details).toEqual({ done: true, more: 1 });
      // the status callback is not called for a completed action
      expect(status).toHaveBeenCalledTimes(1);
    });

    it('a completed action is served without calling the status callback', async () => {
      const status = vi.fn((): ActionUpdate => ({ status: 'ACTIVE' }));
      const connection = await connect(transport, testProvider({ run, status }));
      for (const final of ['SUCCEEDED', 'FAILED']) {
        const action = await start(connection.client(T.creator), {}, { status: final });
        expect(action.completion_time).not.toBeNull();
        const reply = await form.send(connection, action.action_id, T.creator);
        expect(reply.body).toEqual(action);
      }
      expect(status).not.toHaveBeenCalled();
    });
  });
});

describe('HEAD on a status route', () => {
  it('answers what GET would, without running the status callback', async () => {
    let calls = 0;
    const provider = testProvider({
      status: () => {
        calls++;
        return { status: 'SUCCEEDED', details: { polled: calls } };
      },
    });
    const token = await mint(USERS.creator);
    const client = inProcessClient(provider, { token });
    const action = await start(client);
    const raw = rawCaller(provider);
    for (const path of [`/${action.action_id}/status`, `/actions/${action.action_id}`]) {
      const head = await raw('HEAD', path, { token });
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
    }
    expect(calls).toBe(0);
    expect((await client.status(action.action_id)).body.details).toEqual({ polled: 1 });
  });
});
