/**
 * @module test/display-status: the display_status the toolkit fills in: the status when a
 * callback sets none, kept while the status is unchanged, and an explicit one wins.
 */
import { describe, expect, it } from 'vitest';
import type { ActionUpdate } from '../src/index.ts';
import { runWithState as run, start } from './support/actions.ts';
import { tokens } from './support/identities.ts';
import { testProvider } from './support/providers.ts';
import { connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

describe.each(TRANSPORTS)('display_status defaults ($name)', (transport) => {
  it('is the status after run when run sets none', async () => {
    const connection = await connect(transport, testProvider({ run: () => ({ status: 'ACTIVE' }) }));
    const action = await start(connection.client(T.creator));
    expect(action.display_status).toBe('ACTIVE');
    const inactive = await connect(transport, testProvider({ run: () => ({ status: 'INACTIVE' }) }));
    expect((await start(inactive.client(T.creator))).display_status).toBe('INACTIVE');
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
    const connection = await connect(transport, testProvider({ run, status: () => next.shift() as ActionUpdate }));
    const action = await start(connection.client(T.creator));
    const client = connection.client(T.creator, 'actions');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push((await client.status(action.action_id)).body.display_status);
    expect(seen).toEqual(['Queued', 'Queued', 'INACTIVE', 'Waiting for consent', 'ACTIVE', 'FAILED']);
  });
});
