/**
 * @module test/resume: `POST /{id}/resume` and `POST /actions/{id}/resume`: 501 without a
 * callback, the resume callback's result kept, completed actions left alone.
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

describe.each(TRANSPORTS)('resume ($name)', (transport) => {
  describe.each(FORMS.resume)('$name', (form) => {
    it('without a callback → 501 NotImplemented', async () => {
      const connection = await connect(transport, testProvider({ run }));
      const action = await start(connection.client(T.creator), {}, { status: 'INACTIVE' });
      expectError(await form.send(connection, action.action_id, T.creator), 501, 'NotImplemented');
      expectError(await form.send(connection, 'no-such-action', T.creator), 404, 'ActionNotFound');
    });

    it('stores the resume callback result', async () => {
      const resume = vi.fn(
        (): ActionUpdate => ({ status: 'ACTIVE', display_status: 'Resumed', state: { secret: SECRET, resumed: true } }),
      );
      const provider = testProvider({ run, resume });
      const connection = await connect(transport, provider);
      const action = await start(connection.client(T.creator), {}, { status: 'INACTIVE' });
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ status: 'ACTIVE', display_status: 'Resumed', details: { step: 'run' } });
      expectNoState(reply.text);
      expect(await provider.actions.get(action.action_id)).toMatchObject({
        status: 'ACTIVE',
        state: { secret: SECRET, resumed: true },
      });
      expect(resume).toHaveBeenCalledTimes(1);
    });

    it('returns a completed action unchanged, without calling the callback', async () => {
      const resume = vi.fn((): ActionUpdate => ({ status: 'ACTIVE' }));
      const connection = await connect(transport, testProvider({ run, resume }));
      const action = await start(connection.client(T.creator), {}, { status: 'SUCCEEDED' });
      const reply = await form.send(connection, action.action_id, T.creator);
      expect(reply.body).toEqual(action);
      expect(resume).not.toHaveBeenCalled();
    });
  });
});
