/**
 * @module test/globus-authz: authorization with Globus identities and groups, against the fake
 * Globus Auth and Groups over real HTTP: group allow-lists, linked identities, when groups are
 * fetched and how long they are cached.
 */
import { describe, expect, it } from 'vitest';
import { GROUPS_SCOPE } from '../src/index.ts';
import { start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { harness, TRANSFER_SCOPE } from './support/globus.ts';
import { GROUPS, groupUrn, SCOPE, USERS, urn } from './support/identities.ts';

const G = (id: string) => groupUrn(id);

const users = [
  { id: USERS.creator },
  { id: USERS.member, groups: [GROUPS.lab] },
  { id: USERS.monitor, groups: [GROUPS.monitors, GROUPS.other] },
  { id: USERS.manager, groups: [GROUPS.managers] },
  { id: USERS.stranger, groups: [GROUPS.other] },
];

describe('group allow-lists on the provider', () => {
  it('runnable_by a group: a member may run (202), a non-member may not (403)', async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [G(GROUPS.lab)] } });
    const member = await h.client(h.token(USERS.member)).run({ body: {} });
    expect(member.status, JSON.stringify(member.body)).toBe(202);
    expect(member.body.creator_id).toBe(urn(USERS.member));
    expectError(await h.client(h.token(USERS.stranger)).run({ body: {} }), 403, 'ForbiddenRequest');
    expectError(await h.client(h.token(USERS.creator)).run({ body: {} }), 403, 'ForbiddenRequest');
    // Enumerate uses runnable_by as well.
    expect((await h.client(h.token(USERS.member)).enumerate()).status).toBe(200);
    expectError(await h.client(h.token(USERS.stranger)).enumerate(), 403, 'ForbiddenRequest');
  });

  it('runnable_by with an identity and a group: the identity needs no group lookup', async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [urn(USERS.creator), G(GROUPS.lab)] } });
    expect((await h.client(h.token(USERS.creator)).run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.groups).toBe(0);
    expect(h.globus.calls.token).toBe(0);
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.groups).toBe(1);
  });

  it('visible_to a group: member 200, others 404, no token 401', async () => {
    const h = await harness({ fake: { users }, description: { visible_to: [G(GROUPS.lab)] } });
    const member = await h.client(h.token(USERS.member)).introspect();
    expect(member.status).toBe(200);
    expect(member.body.visible_to).toEqual([G(GROUPS.lab)]);
    expectError(await h.client(h.token(USERS.stranger)).introspect(), 404, 'ActionNotFound');
    expectError(await h.client().introspect(), 401, 'UnauthorizedRequest');
    expectError(await h.client('not-a-token').introspect(), 401, 'UnauthorizedRequest');
  });

  it('a group decision blocked by a missing consent answers 403 with the GARE naming the scope to consent to', async () => {
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [GROUPS.lab] }] },
      description: { runnable_by: [G(GROUPS.lab)] },
    });
    const token = h.token(USERS.member, {
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const reply = await h.client(token).run({ body: {} });
    expect(reply.status).toBe(403);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.body).toEqual({
      code: 'ConsentRequired',
      description: expect.stringContaining(TRANSFER_SCOPE),
      required_scope: `${SCOPE}[${TRANSFER_SCOPE}]`,
      authorization_parameters: {
        session_message: expect.stringMatching(/consent/),
        required_scopes: [`${SCOPE}[${TRANSFER_SCOPE}]`],
      },
    });
  });
});

describe('monitor_by and manage_by with group URNs', () => {
  async function setup() {
    const h = await harness({
      fake: { users },
      provider: { log: ({ action }) => ({ entries: [{ id: action.action_id }] }) },
    });
    const action = await start(h.client(h.token(USERS.creator)), {
      monitor_by: [G(GROUPS.monitors)],
      manage_by: [G(GROUPS.managers)],
    });
    return { h, id: action.action_id as string };
  }

  it('a member of a monitor_by group can read status and log, but cancel is 403', async () => {
    const { h, id } = await setup();
    const monitor = h.client(h.token(USERS.monitor));
    const status = await monitor.status(id);
    expect(status.status).toBe(200);
    expect(status.body.monitor_by).toEqual([G(GROUPS.monitors)]);
    const log = await monitor.log(id);
    expect(log.status).toBe(200);
    expect(log.body).toEqual({ entries: [{ id }], has_next_page: false, limit: 10, marker: null });
    expectError(await monitor.cancel(id), 403, 'ForbiddenRequest');
    expectError(await monitor.resume(id), 403, 'ForbiddenRequest');
  });

  it('a member of a manage_by group can read status and cancel (200)', async () => {
    const { h, id } = await setup();
    const manager = h.client(h.token(USERS.manager));
    expect((await manager.status(id)).status).toBe(200);
    const canceled = await manager.cancel(id);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('FAILED');
  });

  it('a stranger (in another group) gets 404 for status and cancel, as for an unknown id', async () => {
    const { h, id } = await setup();
    const stranger = h.client(h.token(USERS.stranger));
    expectError(await stranger.status(id), 404, 'ActionNotFound');
    expectError(await stranger.cancel(id), 404, 'ActionNotFound');
    expectError(await stranger.release(id), 404, 'ActionNotFound');
    expectError(await stranger.log(id), 404, 'ActionNotFound');
    expect((await stranger.status('no-such-action')).body).toEqual({
      code: 'ActionNotFound',
      description: expect.any(String),
    });
  });

  it('the creator needs no group lookup, even on an action whose lists hold only groups', async () => {
    const { h, id } = await setup();
    h.globus.resetCalls();
    const creator = h.client(h.token(USERS.creator));
    expect((await creator.status(id)).status).toBe(200);
    expect((await creator.cancel(id)).status).toBe(200);
    expect(h.globus.calls.groups).toBe(0);
    expect(h.globus.calls.token).toBe(0);
  });

  it('enumerate with roles=monitor_by,manage_by lists actions seen through groups', async () => {
    const { h, id } = await setup();
    const listed = await h.client(h.token(USERS.monitor)).enumerate({ roles: 'monitor_by' });
    expect(listed.status).toBe(200);
    expect(listed.body.map((a: { action_id: string }) => a.action_id)).toEqual([id]);
    const managed = await h.client(h.token(USERS.manager)).enumerate({ roles: 'manage_by' });
    expect(managed.body.map((a: { action_id: string }) => a.action_id)).toEqual([id]);
    const none = await h.client(h.token(USERS.stranger)).enumerate({ roles: 'monitor_by,manage_by' });
    expect(none.body).toEqual([]);
  });
});

describe('linked identities (identity_set)', () => {
  const linkedUsers = [
    { id: USERS.creator, linked: [USERS.creatorLinked] },
    { id: USERS.creatorLinked },
    { id: USERS.member, linked: [USERS.monitor] },
    { id: USERS.stranger },
  ];

  it('a user whose linked identity created the action can monitor and manage it', async () => {
    const h = await harness({ fake: { users: linkedUsers } });
    // Created under the linked identity, acted on by the primary one.
    const action = await start(h.client(h.token(USERS.creatorLinked)));
    expect(action.creator_id).toBe(urn(USERS.creatorLinked));
    const primary = h.client(h.token(USERS.creator));
    expect((await primary.status(action.action_id)).status).toBe(200);
    expect((await primary.cancel(action.action_id)).status).toBe(200);
    expectError(await h.client(h.token(USERS.stranger)).status(action.action_id), 404, 'ActionNotFound');
  });

  it('a user whose linked identity is in monitor_by can monitor but not manage', async () => {
    const h = await harness({ fake: { users: linkedUsers } });
    const action = await start(h.client(h.token(USERS.creator)), { monitor_by: [urn(USERS.monitor)] });
    const linked = h.client(h.token(USERS.member));
    expect((await linked.status(action.action_id)).status).toBe(200);
    expectError(await linked.cancel(action.action_id), 403, 'ForbiddenRequest');
    // Identity-only lists never need the groups.
    expect(h.globus.calls.groups).toBe(0);
    expect(h.globus.calls.token).toBe(0);
  });

  it("every linked identity's token carries the same identity_set, so either one may act on the other's action", async () => {
    const h = await harness({ fake: { users: linkedUsers } });
    const action = await start(h.client(h.token(USERS.creator)));
    // Globus reports the whole linked set whichever identity the token was issued to.
    expect((await h.client(h.token(USERS.creatorLinked)).status(action.action_id)).status).toBe(200);
    expectError(await h.client(h.token(USERS.stranger)).status(action.action_id), 404, 'ActionNotFound');
  });

  it('a linked identity in runnable_by lets the user run; the action is created by the primary identity', async () => {
    const h = await harness({ fake: { users: linkedUsers }, description: { runnable_by: [urn(USERS.creatorLinked)] } });
    const reply = await h.client(h.token(USERS.creator)).run({ body: {} });
    expect(reply.status).toBe(202);
    expect(reply.body.creator_id).toBe(urn(USERS.creator));
    expectError(await h.client(h.token(USERS.stranger)).run({ body: {} }), 403, 'ForbiddenRequest');
  });
});

describe('when groups are fetched', () => {
  it('never when no allow-list holds a group URN', async () => {
    const h = await harness({ fake: { users } });
    const token = h.token(USERS.member);
    const action = await start(h.client(token), { monitor_by: [urn(USERS.monitor)], manage_by: [urn(USERS.manager)] });
    const client = h.client(token);
    expect((await client.status(action.action_id)).status).toBe(200);
    expect((await client.enumerate()).status).toBe(200);
    expectError(await h.client(h.token(USERS.stranger)).status(action.action_id), 404, 'ActionNotFound');
    expect((await client.cancel(action.action_id)).status).toBe(200);
    expect(h.globus.calls.groups).toBe(0);
    expect(h.globus.calls.token).toBe(0);
  });

  it('once per request even when several lists of one decision hold groups', async () => {
    const h = await harness({ fake: { users } });
    const action = await start(h.client(h.token(USERS.creator)), {
      monitor_by: [G(GROUPS.monitors)],
      manage_by: [G(GROUPS.managers)],
    });
    // The stranger is in neither group: both lists are checked, against one my_groups answer.
    expectError(await h.client(h.token(USERS.stranger)).status(action.action_id), 404, 'ActionNotFound');
    expect(h.globus.calls.groups).toBe(1);
    expect(h.globus.calls.token).toBe(1);
  });

  it('groups are cached 5 minutes per token: no new call before, one new call after', async () => {
    const h = await harness({ fake: { users }, description: { runnable_by: [G(GROUPS.lab)] } });
    const token = h.token(USERS.member);
    const client = h.client(token);
    expect((await client.run({ body: {} })).status).toBe(202);
    expect(h.globus.calls).toMatchObject({ token: 1, groups: 1 });
    expect((await client.run({ body: {} })).status).toBe(202);
    expect((await client.enumerate()).status).toBe(200);
    expect(h.globus.calls).toMatchObject({ token: 1, groups: 1 });
    h.clock.advance(5 * 60_000 - 1_000);
    expect((await client.run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.groups).toBe(1);
    h.clock.advance(1_001);
    expect((await client.run({ body: {} })).status).toBe(202);
    expect(h.globus.calls.groups).toBe(2);
    // The dependent token (valid for 48 h) is reused for the second my_groups call.
    expect(h.globus.calls.token).toBe(1);
  });

  it('a membership change shows after the 5 minute cache, not before', async () => {
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [] }] },
      description: { runnable_by: [G(GROUPS.lab)] },
    });
    const token = h.token(USERS.member);
    expectError(await h.client(token).run({ body: {} }), 403, 'ForbiddenRequest');
    h.globus.addUser({ id: USERS.member, groups: [GROUPS.lab] });
    expectError(await h.client(token).run({ body: {} }), 403, 'ForbiddenRequest');
    h.clock.advance(5 * 60_000 + 1);
    expect((await h.client(token).run({ body: {} })).status).toBe(202);
  });

  it('concurrent decisions needing the groups of one new token share one dependent grant and one my_groups call', async () => {
    const h = await harness({ fake: { users, latency: 30 }, description: { runnable_by: [G(GROUPS.lab)] } });
    const token = h.token(USERS.member);
    const replies = await Promise.all(Array.from({ length: 50 }, () => h.client(token).enumerate()));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(h.globus.calls).toEqual({ introspect: 1, token: 1, groups: 1 });
  });
});
