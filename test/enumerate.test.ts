/** @module test/enumerate: `GET /actions`, filtered by status and role, and only what the caller may see. */
import { describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import { type Call, GROUP, groupUrn, mint, SCOPE, TRANSPORTS, testProvider, tokens, USERS, urn } from './helpers.ts';
import { connect, expectError, field, start } from './operations-fixtures.ts';

const T = await tokens();

/** Run answers `body.status` (default ACTIVE). */
const provider = (): ActionProvider =>
  testProvider({
    run: ({ request }) => ({ status: (field(request.body, 'status') as 'ACTIVE' | undefined) ?? 'ACTIVE' }),
  });

const ids = (reply: { json: { action_id: string }[] }) => reply.json.map((a) => a.action_id).sort();

/**
 * The creator's actions in each status, plus actions of others that name the monitor, the
 * manager or the group; returns the action ids by name.
 */
async function populate(call: Call) {
  const mk = async (token: string, status: string, envelope: Record<string, unknown> = {}) =>
    (await start(call, token, envelope, { status })).action_id as string;
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
    const call = await connect(transport, provider());
    const a = await populate(call);
    const reply = await call('GET', '/actions', { token: T.creator });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ids(reply)).toEqual([a.active]);
    expect(Object.keys(reply.json[0]).sort()).toContain('display_status');
    expect(reply.json[0]).not.toHaveProperty('state');
    expect(reply.json[0]).not.toHaveProperty('request');
    // the stranger's default listing holds only their own active actions
    expect(ids(await call('GET', '/actions', { token: T.stranger }))).toEqual(
      [a.monitored, a.managed, a.groupManaged, a.strangers].sort(),
    );
  });

  it('status takes a comma list in any case', async () => {
    const call = await connect(transport, provider());
    const a = await populate(call);
    expect(ids(await call('GET', '/actions?status=succeeded,FAILED', { token: T.creator }))).toEqual(
      [a.succeeded, a.failed].sort(),
    );
    expect(ids(await call('GET', '/actions?status=Inactive', { token: T.creator }))).toEqual([a.inactive]);
    expect(ids(await call('GET', '/actions?status=active,%20inactive,Succeeded,failed', { token: T.creator }))).toEqual(
      [a.active, a.inactive, a.succeeded, a.failed].sort(),
    );
    expect(ids(await call('GET', '/actions?status=ACTIVE,active', { token: T.creator }))).toEqual([a.active]);
  });

  it('the linked identity of the creator lists the creator’s actions', async () => {
    const call = await connect(transport, provider());
    const a = await populate(call);
    const linked = await mint(USERS.creatorLinked, { identitySet: [USERS.creatorLinked, USERS.creator] });
    expect(ids(await call('GET', '/actions', { token: linked }))).toEqual([a.active]);
    expect(ids(await call('GET', '/actions', { token: T.creatorLinked }))).toEqual([]);
  });

  it('roles monitor_by and manage_by, by identity', async () => {
    const call = await connect(transport, provider());
    const a = await populate(call);
    expect(ids(await call('GET', '/actions?roles=monitor_by', { token: T.monitor }))).toEqual([a.monitored]);
    expect(ids(await call('GET', '/actions?roles=creator_id', { token: T.monitor }))).toEqual([]);
    expect(ids(await call('GET', '/actions', { token: T.monitor }))).toEqual([]);
    expect(ids(await call('GET', '/actions?roles=manage_by', { token: T.manager }))).toEqual([a.managed]);
    expect(ids(await call('GET', '/actions?roles=monitor_by', { token: T.manager }))).toEqual([]);
    expect(ids(await call('GET', '/actions?roles=MONITOR_BY,Manage_By', { token: T.manager }))).toEqual([a.managed]);
  });

  it('roles monitor_by and manage_by, via a group', async () => {
    const call = await connect(transport, provider());
    const a = await populate(call);
    expect(ids(await call('GET', '/actions?roles=monitor_by&status=succeeded', { token: T.member }))).toEqual([
      a.groupMonitored,
    ]);
    expect(ids(await call('GET', '/actions?roles=manage_by', { token: T.member }))).toEqual([a.groupManaged]);
    expect(
      ids(await call('GET', '/actions?roles=monitor_by,manage_by&status=active,succeeded', { token: T.member })),
    ).toEqual([a.groupMonitored, a.groupManaged].sort());
  });

  it('only actions the caller may see are returned', async () => {
    const call = await connect(transport, provider());
    const a = await populate(call);
    const everything = '/actions?roles=creator_id,monitor_by,manage_by&status=active,inactive,succeeded,failed';
    const outsider = await mint(USERS.member, { groups: ['00000000-0000-4000-8000-000000000300'] });
    expect((await call('GET', everything, { token: outsider })).json).toEqual([]);
    expect(ids(await call('GET', everything, { token: T.creator }))).toEqual(
      [a.active, a.inactive, a.succeeded, a.failed].sort(),
    );
    expect(ids(await call('GET', everything, { token: T.monitor }))).toEqual([a.monitored]);
    // every listed action is readable by the caller
    for (const token of [T.creator, T.monitor, T.manager, T.member, T.stranger]) {
      const listed = (await call('GET', everything, { token })).json as { action_id: string }[];
      for (const action of listed) {
        const status = await call('GET', `/actions/${action.action_id}`, { token });
        expect(status.status).toBe(200);
        expect(status.json).toEqual(action);
      }
    }
  });

  it('released actions are absent', async () => {
    const call = await connect(transport, provider());
    const a = await populate(call);
    expect((await call('DELETE', `/actions/${a.succeeded}`, { token: T.creator })).status).toBe(200);
    expect(ids(await call('GET', '/actions?status=succeeded,failed', { token: T.creator }))).toEqual([a.failed]);
  });

  it.each([
    ['status=running', 'running'],
    ['status=active,BOGUS', 'BOGUS'],
    ['roles=owner', 'owner'],
    ['roles=creator_id,viewer', 'viewer'],
  ])('an unknown value (%s) → 422 naming it', async (query, bad) => {
    const call = await connect(transport, provider());
    const reply = await call('GET', `/actions?${query}`, { token: T.creator });
    expectError(reply, 422, 'RequestValidationError');
    expect(reply.json.description.toLowerCase()).toContain(bad.toLowerCase());
  });

  it('a caller not in runnable_by → 403 ForbiddenRequest', async () => {
    const p = testProvider({
      description: {
        title: 't',
        globus_auth_scope: SCOPE,
        admin_contact: 'a',
        runnable_by: [urn(USERS.creator), groupUrn(GROUP)],
      },
    });
    const call = await connect(transport, p);
    expectError(await call('GET', '/actions', { token: T.stranger }), 403, 'ForbiddenRequest');
    expect((await call('GET', '/actions', { token: T.creator })).status).toBe(200);
    expect((await call('GET', '/actions', { token: T.member })).status).toBe(200);
    expectError(await call('GET', '/actions'), 401, 'UnauthorizedRequest');
  });

  it('an enumerate callback replaces the store and receives the parsed query', async () => {
    const seen: unknown[] = [];
    const p = testProvider({
      enumerate: ({ caller, statuses, roles }) => {
        seen.push({ identity: caller.identity, statuses, roles });
        return [];
      },
    });
    const call = await connect(transport, p);
    expect((await call('GET', '/actions?status=failed,Succeeded&roles=Monitor_by', { token: T.creator })).json).toEqual(
      [],
    );
    expect(seen).toEqual([{ identity: urn(USERS.creator), statuses: ['FAILED', 'SUCCEEDED'], roles: ['monitor_by'] }]);
  });
});
