/** @module test/enumerate: `GET /actions`, filtered by status and role, and only what the caller may see. */
import { describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import type { ClientReply } from '../src/testing/index.ts';
import { start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { GROUP, groupUrn, mint, tokens, USERS, urn } from './support/identities.ts';
import { description, field, testProvider } from './support/providers.ts';
import { type Connection, connect, TRANSPORTS } from './support/transports.ts';

const T = await tokens();

/** Run answers `body.status` (default ACTIVE). */
const provider = (): ActionProvider =>
  testProvider({
    run: ({ request }) => ({ status: (field(request.body, 'status') as 'ACTIVE' | undefined) ?? 'ACTIVE' }),
  });

const ids = (reply: ClientReply<{ action_id: string }[]>) => reply.body.map((a) => a.action_id).sort();

/**
 * The creator's actions in each status, plus actions of others that name the monitor, the
 * manager or the group; returns the action ids by name.
 */
async function populate(connection: Connection) {
  const mk = async (token: string, status: string, envelope: Record<string, unknown> = {}) =>
    (await start(connection.client(token), envelope, { status })).action_id as string;
  return {
    active: await mk(T.creator, 'ACTIVE'),
    inactive: await mk(T.creator, 'INACTIVE'),
    succeeded: await mk(T.creator, 'SUCCEEDED'),
    failed: await mk(T.creator, 'FAILED'),
    // created by the stranger, naming others
    monitored: await mk(T.stranger, 'ACTIVE', { monitor_by: [urn(USERS.monitor)] }),
    managed: await mk(T.stranger, 'ACTIVE', { manage_by: [urn(USERS.manager)] }),
    groupMonitored: await mk(T.stranger, 'SUCCEEDED', { monitor_by: [groupUrn(GROUP)] }),
    groupManaged: await mk(T.stranger, 'ACTIVE', { manage_by: [groupUrn(GROUP)] }),
    strangers: await mk(T.stranger, 'ACTIVE', { monitor_by: [urn(USERS.stranger)], manage_by: [urn(USERS.stranger)] }),
  };
}

describe.each(TRANSPORTS)('enumerate ($name)', (transport) => {
  it('defaults to status=active and roles=creator_id', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    const reply = await connection.client(T.creator).enumerate();
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ids(reply)).toEqual([a.active]);
    expect(Object.keys(reply.body[0]).sort()).toContain('display_status');
    expect(reply.body[0]).not.toHaveProperty('state');
    expect(reply.body[0]).not.toHaveProperty('request');
    // the stranger's default listing holds only their own active actions
    expect(ids(await connection.client(T.stranger).enumerate())).toEqual(
      [a.monitored, a.managed, a.groupManaged, a.strangers].sort(),
    );
  });

  it('status takes a comma list in any case', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    const creator = connection.client(T.creator);
    expect(ids(await creator.enumerate({ status: 'succeeded,FAILED' }))).toEqual([a.succeeded, a.failed].sort());
    expect(ids(await creator.enumerate({ status: 'Inactive' }))).toEqual([a.inactive]);
    expect(ids(await creator.enumerate({ status: 'active, inactive,Succeeded,failed' }))).toEqual(
      [a.active, a.inactive, a.succeeded, a.failed].sort(),
    );
    expect(ids(await creator.enumerate({ status: 'ACTIVE,active' }))).toEqual([a.active]);
  });

  it('the linked identity of the creator lists the creator’s actions', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    const linked = await mint(USERS.creatorLinked, { identitySet: [USERS.creatorLinked, USERS.creator] });
    expect(ids(await connection.client(linked).enumerate())).toEqual([a.active]);
    expect(ids(await connection.client(T.creatorLinked).enumerate())).toEqual([]);
  });

  it('roles monitor_by and manage_by, by identity', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    expect(ids(await connection.client(T.monitor).enumerate({ roles: 'monitor_by' }))).toEqual([a.monitored]);
    expect(ids(await connection.client(T.monitor).enumerate({ roles: 'creator_id' }))).toEqual([]);
    expect(ids(await connection.client(T.monitor).enumerate())).toEqual([]);
    expect(ids(await connection.client(T.manager).enumerate({ roles: 'manage_by' }))).toEqual([a.managed]);
    expect(ids(await connection.client(T.manager).enumerate({ roles: 'monitor_by' }))).toEqual([]);
    expect(ids(await connection.client(T.manager).enumerate({ roles: 'MONITOR_BY,Manage_By' }))).toEqual([a.managed]);
  });

  it('roles monitor_by and manage_by, via a group', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    expect(ids(await connection.client(T.member).enumerate({ roles: 'monitor_by', status: 'succeeded' }))).toEqual([
      a.groupMonitored,
    ]);
    expect(ids(await connection.client(T.member).enumerate({ roles: 'manage_by' }))).toEqual([a.groupManaged]);
    expect(
      ids(await connection.client(T.member).enumerate({ roles: 'monitor_by,manage_by', status: 'active,succeeded' })),
    ).toEqual([a.groupMonitored, a.groupManaged].sort());
  });

  it('only actions the caller may see are returned', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    const everything = (token: string) =>
      connection
        .client(token)
        .enumerate({ roles: 'creator_id,monitor_by,manage_by', status: 'active,inactive,succeeded,failed' });
    const outsider = await mint(USERS.member, { groups: ['00000000-0000-4000-8000-000000000300'] });
    expect((await everything(outsider)).body).toEqual([]);
    expect(ids(await everything(T.creator))).toEqual([a.active, a.inactive, a.succeeded, a.failed].sort());
    expect(ids(await everything(T.monitor))).toEqual([a.monitored]);
    // every listed action is readable by the caller
    for (const token of [T.creator, T.monitor, T.manager, T.member, T.stranger]) {
      const listed = (await everything(token)).body as { action_id: string }[];
      for (const action of listed) {
        const status = await connection.client(token, 'actions').status(action.action_id);
        expect(status.status).toBe(200);
        expect(status.body).toEqual(action);
      }
    }
  });

  it('released actions are absent', async () => {
    const connection = await connect(transport, provider());
    const a = await populate(connection);
    expect((await connection.client(T.creator, 'actions').release(a.succeeded)).status).toBe(200);
    expect(ids(await connection.client(T.creator).enumerate({ status: 'succeeded,failed' }))).toEqual([a.failed]);
  });

  it.each([
    ['status=running', 'running'],
    ['status=active,BOGUS', 'BOGUS'],
    ['roles=owner', 'owner'],
    ['roles=creator_id,viewer', 'viewer'],
  ])('an unknown value (%s) → 422 naming it', async (query, bad) => {
    const connection = await connect(transport, provider());
    const reply = await connection.client(T.creator).enumerate(Object.fromEntries(new URLSearchParams(query)));
    expectError(reply, 422, 'RequestValidationError');
    expect(reply.body.description.toLowerCase()).toContain(bad.toLowerCase());
  });

  it('a caller not in runnable_by → 403 ForbiddenRequest', async () => {
    const p = testProvider({
      description: description({ title: 't', admin_contact: 'a', runnable_by: [urn(USERS.creator), groupUrn(GROUP)] }),
    });
    const connection = await connect(transport, p);
    expectError(await connection.client(T.stranger).enumerate(), 403, 'ForbiddenRequest');
    expect((await connection.client(T.creator).enumerate()).status).toBe(200);
    expect((await connection.client(T.member).enumerate()).status).toBe(200);
    expectError(await connection.client().enumerate(), 401, 'UnauthorizedRequest');
  });

  it('an enumerate callback replaces the store and receives the parsed query', async () => {
    const seen: unknown[] = [];
    const p = testProvider({
      enumerate: ({ caller, statuses, roles }) => {
        seen.push({ identity: caller.identity, statuses, roles });
        return [];
      },
    });
    const connection = await connect(transport, p);
    const reply = await connection.client(T.creator).enumerate({ status: 'failed,Succeeded', roles: 'Monitor_by' });
    expect(reply.body).toEqual([]);
    expect(seen).toEqual([{ identity: urn(USERS.creator), statuses: ['FAILED', 'SUCCEEDED'], roles: ['monitor_by'] }]);
  });
});
