/**
 * @module test/authorization: who may monitor (status, log) and manage (cancel, release,
 * resume) an action, through every route form; and when groups are fetched.
 */
import { describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import {
  type Call,
  caller,
  GROUP,
  groupUrn,
  mint,
  rid,
  SCOPE,
  TRANSPORTS,
  testProvider,
  tokens,
  USERS,
  urn,
} from './helpers.ts';
import { connect, countingAuth, expectError, FORMS, field, start } from './operations-fixtures.ts';

const T = await tokens();
/** The creator's linked identity, holding the creator in its identity_set. */
const LINKED_TO_CREATOR = await mint(USERS.creatorLinked, { identitySet: [USERS.creatorLinked, USERS.creator] });
/** A stranger whose identity_set holds the monitor identity. */
const LINKED_TO_MONITOR = await mint(USERS.stranger, { identitySet: [USERS.stranger, USERS.monitor] });
/** A stranger whose identity_set holds the manager identity. */
const LINKED_TO_MANAGER = await mint(USERS.stranger, { identitySet: [USERS.stranger, USERS.manager] });
const OTHER_GROUP = '00000000-0000-4000-8000-000000000200';
/** A member of a group that is not listed anywhere. */
const MEMBER_OF_OTHER = await mint(USERS.member, { groups: [OTHER_GROUP] });

type Access = 'manage' | 'monitor' | 'none' | 'anonymous';
interface Case {
  who: string;
  token: string | undefined;
  /** monitor_by / manage_by of the action, created by USERS.creator. */
  envelope: Record<string, unknown>;
  access: Access;
}

const CASES: Case[] = [
  { who: 'the creator', token: T.creator, envelope: {}, access: 'manage' },
  {
    who: 'the creator, with monitor_by/manage_by not naming them',
    token: T.creator,
    envelope: { monitor_by: [urn(USERS.monitor)], manage_by: [urn(USERS.manager)] },
    access: 'manage',
  },
  { who: "the creator's linked identity (identity_set)", token: LINKED_TO_CREATOR, envelope: {}, access: 'manage' },
  {
    who: 'an identity in monitor_by',
    token: T.monitor,
    envelope: { monitor_by: [urn(USERS.monitor)] },
    access: 'monitor',
  },
  {
    who: 'a linked identity in monitor_by',
    token: LINKED_TO_MONITOR,
    envelope: { monitor_by: [urn(USERS.monitor)] },
    access: 'monitor',
  },
  {
    who: 'an identity in manage_by',
    token: T.manager,
    envelope: { manage_by: [urn(USERS.manager)] },
    access: 'manage',
  },
  {
    who: 'a linked identity in manage_by',
    token: LINKED_TO_MANAGER,
    envelope: { manage_by: [urn(USERS.manager)] },
    access: 'manage',
  },
  {
    who: 'a group member, group in monitor_by',
    token: T.member,
    envelope: { monitor_by: [groupUrn(GROUP)] },
    access: 'monitor',
  },
  {
    who: 'a group member, group in manage_by',
    token: T.member,
    envelope: { manage_by: [groupUrn(GROUP)] },
    access: 'manage',
  },
  {
    who: 'a member of another group',
    token: MEMBER_OF_OTHER,
    envelope: { monitor_by: [groupUrn(GROUP)], manage_by: [groupUrn(GROUP)] },
    access: 'none',
  },
  { who: 'an identity only in monitor_by of another action', token: T.monitor, envelope: {}, access: 'none' },
  {
    who: 'a stranger',
    token: T.stranger,
    envelope: { monitor_by: [urn(USERS.monitor), groupUrn(GROUP)], manage_by: [urn(USERS.manager), groupUrn(GROUP)] },
    access: 'none',
  },
  { who: 'no token', token: undefined, envelope: { monitor_by: [urn(USERS.monitor)] }, access: 'anonymous' },
];

/** Run returns ACTIVE, or SUCCEEDED when `body.complete` (release needs a completed action). */
function matrixProvider(): ActionProvider {
  return testProvider({
    run: ({ request }) => ({
      status: field(request.body, 'complete') === true ? 'SUCCEEDED' : 'ACTIVE',
      details: { n: 1 },
    }),
    resume: () => ({ status: 'ACTIVE', display_status: 'Resumed' }),
    log: () => ({ entries: [{ msg: 'hello' }] }),
  });
}

type Op = keyof typeof FORMS;
const OPS: { op: Op; needs: 'monitor' | 'manage'; complete: boolean }[] = [
  { op: 'status', needs: 'monitor', complete: false },
  { op: 'log', needs: 'monitor', complete: false },
  { op: 'cancel', needs: 'manage', complete: false },
  { op: 'resume', needs: 'manage', complete: false },
  { op: 'release', needs: 'manage', complete: true },
];

function expected(access: Access, needs: 'monitor' | 'manage'): number {
  if (access === 'anonymous') return 401;
  if (access === 'none') return 404;
  if (needs === 'manage' && access === 'monitor') return 403;
  return 200;
}

describe.each(TRANSPORTS)('authorization ($name)', (transport) => {
  for (const { op, needs, complete } of OPS) {
    describe.each(FORMS[op])(`${op}: $name`, (form) => {
      it.each(CASES)('$who', async ({ token, envelope, access }) => {
        const provider = matrixProvider();
        const call = await connect(transport, provider);
        const action = await start(call, T.creator, envelope, { complete });
        const id = action.action_id as string;
        const reply = await call(form.method, form.path(id), token === undefined ? {} : { token });
        const status = expected(access, needs);
        if (status === 200) {
          expect(reply.status, reply.text).toBe(200);
          if (op === 'log') expect(reply.json.entries).toEqual([{ msg: 'hello' }]);
          else expect(reply.json.action_id).toBe(id);
        } else if (status === 401) {
          expectError(reply, 401, 'UnauthorizedRequest');
        } else if (status === 403) {
          expectError(reply, 403, 'ForbiddenRequest');
        } else {
          expectError(reply, 404, 'ActionNotFound');
          // Byte-identical to the answer for an id that does not exist: delete it and ask again.
          await provider.store.delete(id);
          const unknown = await call(form.method, form.path(id), { token: T.creator });
          expect(unknown.status).toBe(404);
          expect(reply.text).toBe(unknown.text);
          expect([...reply.headers].filter(([k]) => k !== 'date')).toEqual(
            [...unknown.headers].filter(([k]) => k !== 'date'),
          );
          return;
        }
        // A refused manage operation changed nothing.
        const after = await provider.actions.get(id);
        if (status !== 200) {
          expect(after?.status).toBe(action.status);
          expect(after?.display_status).toBe(action.display_status);
        } else if (op === 'release') {
          expect(after).toBeUndefined();
        }
      });
    });
  }

  it('the 404 for an unknown id is the same for every caller', async () => {
    const call = await connect(transport, matrixProvider());
    const bodies = new Set<string>();
    for (const token of [T.creator, T.stranger, T.member, LINKED_TO_CREATOR]) {
      const reply = await call('GET', '/actions/00000000-0000-4000-8000-0000000000ff', { token });
      expectError(reply, 404, 'ActionNotFound');
      bodies.add(reply.text);
    }
    expect(bodies.size).toBe(1);
  });
});

describe('groups are fetched only when an allow-list names a group', () => {
  const creator = urn(USERS.creator);
  const monitor = urn(USERS.monitor);
  const member = urn(USERS.member);
  const group = groupUrn(GROUP);

  async function setup(envelope: Record<string, unknown>) {
    const auth = countingAuth({ [member]: [group] });
    const provider = testProvider({ auth, resume: () => ({ status: 'ACTIVE' }), log: () => ({ entries: [] }) });
    const call: Call = caller(provider);
    const reply = await call('POST', '/run', { token: creator, body: { request_id: rid(), body: {}, ...envelope } });
    expect(reply.status, reply.text).toBe(202);
    auth.groupLoads = 0;
    return { auth, call, id: reply.json.action_id as string };
  }

  it('no group URN anywhere: no group lookup, whoever asks', async () => {
    const { auth, call, id } = await setup({ monitor_by: [monitor], manage_by: [creator] });
    expect((await call('GET', `/actions/${id}`, { token: creator })).status).toBe(200);
    expect((await call('GET', `/actions/${id}`, { token: monitor })).status).toBe(200);
    expect((await call('GET', `/actions/${id}/log`, { token: monitor })).status).toBe(200);
    expect((await call('POST', `/actions/${id}/cancel`, { token: monitor })).status).toBe(403);
    expect((await call('GET', `/actions/${id}`, { token: member })).status).toBe(404);
    expect((await call('POST', `/actions/${id}/resume`, { token: member })).status).toBe(404);
    expect((await call('GET', '/', { token: member })).status).toBe(200);
    expect((await call('POST', '/run', { token: member, body: { request_id: rid(), body: {} } })).status).toBe(202);
    expect((await call('GET', '/actions', { token: member })).status).toBe(200);
    expect(auth.groupLoads).toBe(0);
  });

  it('the creator, or an identity listed before the group is checked, needs no lookup', async () => {
    const { auth, call, id } = await setup({ monitor_by: [monitor, group], manage_by: [creator, group] });
    expect((await call('GET', `/actions/${id}`, { token: creator })).status).toBe(200);
    expect((await call('POST', `/actions/${id}/resume`, { token: creator })).status).toBe(200);
    expect((await call('GET', `/actions/${id}`, { token: monitor })).status).toBe(200);
    expect((await call('GET', `/actions/${id}`, { token: `${member},${monitor}` })).status).toBe(200);
    expect(auth.groupLoads).toBe(0);
  });

  it('a decision that needs the group loads the groups once per request', async () => {
    const { auth, call, id } = await setup({ monitor_by: [monitor], manage_by: [group] });
    expect((await call('GET', `/actions/${id}`, { token: member })).status).toBe(200);
    expect(auth.groupLoads).toBe(1);
    // monitor (no), manage_by (yes) for visibility, then manage_by again: one load
    expect((await call('POST', `/actions/${id}/cancel`, { token: member })).status).toBe(200);
    expect(auth.groupLoads).toBe(2);
    const stranger = urn(USERS.stranger);
    expect((await call('GET', `/actions/${id}`, { token: stranger })).status).toBe(404);
    expect(auth.groupLoads).toBe(3);
  });

  it('runnable_by and visible_to with a group look the groups up', async () => {
    const auth = countingAuth({ [member]: [group] });
    const provider = testProvider({
      auth,
      description: {
        title: 't',
        globus_auth_scope: SCOPE,
        admin_contact: 'a',
        runnable_by: [monitor, group],
        visible_to: [group],
      },
    });
    const call = caller(provider);
    expect((await call('POST', '/run', { token: monitor, body: { request_id: rid(), body: {} } })).status).toBe(202);
    expect(auth.groupLoads).toBe(0);
    expect((await call('POST', '/run', { token: member, body: { request_id: rid(), body: {} } })).status).toBe(202);
    expect(auth.groupLoads).toBe(1);
    expect((await call('GET', '/', { token: member })).status).toBe(200);
    expect(auth.groupLoads).toBe(2);
  });
});
