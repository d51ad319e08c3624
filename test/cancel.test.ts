/**
 * @module test/cancel: `POST /{id}/cancel` and `POST /actions/{id}/cancel`: the default cancel,
 * the cancel callback's result kept, completed actions left alone.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ActionUpdate } from '../src/index.ts';
import { expectNoState, runWithState as run, SECRET, start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { tokens } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { FORMS } from './support/routes.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('cancel ($name)', (transport) => {
  describe.each(FORMS.cancel)('$name', (form) => {
    it('without a callback, marks an ACTIVE action FAILED with {code, description}', async () => {
      const provider = testProvider({ run });
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body).toMatchObject({ action_id: action.action_id, status: 'FAILED' });
      expect(reply.body.details).toEqual({ code: expect.any(String), description: expect.any(String) });
      expect(reply.body.completion_time).not.toBeNull();
      expectNoState(reply.text);
      expect(await provider.actions.get(action.action_id)).toMatchObject({
        status: 'FAILED',
        state: { secret: SECRET },
      });
    });

    it('without a callback, gives each canceled action details of its own', async () => {
      const provider = testProvider({ run });
      const connection = await connect(transport, provider);
      const first = await start(connection.client(T.creator));
      const second = await start(connection.client(T.creator));
      await form.send(connection, first.action_id, T.creator);
      const stored = await provider.actions.get(first.action_id);
      (stored?.details as Record<string, unknown>)['changed'] = true; // what a callback could do to the view it is given
      const reply = await form.send(connection, second.action_id, T.creator);
      expect(reply.body.details).toEqual({ code: 'ActionCanceled', description: expect.any(String) });
    });

    it('without a callback, marks an INACTIVE action FAILED', async () => {
      const connection = await connect(transport, testProvider({ run }));
      const action = await start(connection.client(T.creator), {}, { status: 'INACTIVE' });
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.body.status).toBe('FAILED');
    });

    it('returns a completed action unchanged, without calling the callback', async () => {
      const cancel = vi.fn((): ActionUpdate => ({ status: 'FAILED', details: { canceled: true } }));
      for (const provider of [testProvider({ run }), testProvider({ run, cancel })]) {
        const connection = await connect(transport, provider);
        for (const final of ['SUCCEEDED', 'FAILED']) {
          const action = await start(connection.client(T.creator), {}, { status: final });
          const reply = await form.send(connection, action.action_id, T.creator);
          expect(reply.status).toBe(200);
          expect(reply.body).toEqual(action);
        }
      }
      expect(cancel).not.toHaveBeenCalled();
    });

    it('stores the cancel callback result', async () => {
      const cancel = vi.fn(
        (): ActionUpdate => ({ status: 'INACTIVE', display_status: 'Canceling', details: { canceling: true } }),
      );
      const provider = testProvider({ run, cancel });
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator));
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.body).toMatchObject({
        status: 'INACTIVE',
        display_status: 'Canceling',
        details: { canceling: true },
        completion_time: null,
      });
      expect((await provider.actions.get(action.action_id))?.display_status).toBe('Canceling');
      expect(cancel).toHaveBeenCalledTimes(1);
    });

    it('unknown id → 404', async () => {
      const connection = await connect(transport, testProvider({ run }));
      expectError(await form.send(connection, 'no-such-action', T.creator), 404, 'ActionNotFound');
    });
  });
});
