/**
 * @module test/callback-context: what the status, cancel, resume and log callbacks receive (the
 * loaded action with its request and state, the caller, a signal, waitUntil), and that the
 * state they keep never reaches a client.
 */
import { describe, expect, it } from 'vitest';
import type { ActionContext } from '../src/index.ts';
import { expectNoState, rid, runWithState as run, SECRET, start } from './support/actions.ts';
import { tokens, USERS, urn } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('callback context ($name)', (transport) => {
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
    const connection = await connect(transport, provider);
    const action = await start(
      connection.client(T.creator),
      { label: 'ctx', manage_by: [urn(USERS.manager)] },
      { x: 1 },
    );
    const id = action.action_id;
    const creator = connection.client(T.creator, 'actions');
    await creator.status(id);
    await creator.log(id);
    await connection.client(T.manager, 'actions').resume(id);
    await creator.cancel(id);
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
    const connection = await connect(transport, provider);
    const legacy = connection.client(T.creator);
    const modern = connection.client(T.creator, 'actions');
    const requestId = rid();
    const created = await legacy.run({ request_id: requestId, body: {} });
    expectNoState(created.text);
    const id = created.body.action_id as string;
    const replies = [
      await legacy.run({ request_id: requestId, body: {} }),
      await legacy.status(id),
      await modern.status(id),
      await modern.enumerate({ status: 'succeeded,active' }),
      await modern.cancel(id),
      await modern.release(id),
    ];
    for (const reply of replies) {
      expect(reply.status, reply.text).toBeLessThan(300);
      expectNoState(reply.text);
    }
    expect(replies[3]?.body).toHaveLength(1);
  });
});
