/**
 * @module test/release: `POST /{id}/release`, `DELETE /actions/{id}` and
 * `POST /actions/{id}/release`: only a completed action is released, after which it is gone
 * everywhere and its request_id is free; the release callback sees it first.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ActionContext } from '../src/index.ts';
import { expectNoState, rid, runWithState as run, SECRET, start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { tokens, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { FORMS } from './support/routes.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('release ($name)', (transport) => {
  describe.each(FORMS.release)('$name', (form) => {
    it('→ 409 ActionConflict while ACTIVE or INACTIVE, and the action stays', async () => {
      const release = vi.fn();
      const provider = testProvider({ run, release });
      const connection = await connect(transport, provider);
      for (const status of ['ACTIVE', 'INACTIVE']) {
        const action = await start(connection.client(T.creator), {}, { status });
        expectError(await form.send(connection, action.action_id, T.creator), 409, 'ActionConflict');
        expect((await connection.client(T.creator, 'actions').status(action.action_id)).body).toEqual(action);
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
      const connection = await connect(transport, provider);
      const client = connection.client(T.creator);
      const requestId = rid();
      const first = await client.run({ request_id: requestId, body: { status: 'SUCCEEDED' } });
      expect(first.status).toBe(202);
      const id = first.body.action_id as string;
      const reply = await form.send(connection, id, T.creator);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(first.body);
      expectNoState(reply.text);
      expect(release).toHaveBeenCalledTimes(1);
      for (const forms of Object.values(FORMS)) {
        for (const f of forms) expectError(await f.send(connection, id, T.creator), 404, 'ActionNotFound');
      }
      expect(await provider.actions.get(id)).toBeUndefined();
      expect(await provider.store.get(id)).toBeUndefined();
      expect((await client.enumerate({ status: 'succeeded' })).body).toEqual([]);
      const again = await client.run({ request_id: requestId, body: { status: 'SUCCEEDED' } });
      expect(again.status).toBe(202);
      expect(again.body.action_id).not.toBe(id);
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
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator), {}, { status: 'FAILED' });
      expect((await form.send(connection, action.action_id, T.creator)).status).toBe(200);
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
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator), {}, { status: 'SUCCEEDED' });
      expectError(await form.send(connection, action.action_id, T.creator), 500, 'ActionProviderError');
      expect((await connection.client(T.creator, 'actions').status(action.action_id)).status).toBe(200);
    });
  });
});
