/**
 * @module test/authorization: who may monitor (status, log) and manage (cancel, release,
 * resume) an action, through every route form; and when groups are fetched.
 */
import { describe, expect, it } from 'vitest';
import type { ActionProvider } from '../src/index.ts';
import { start } from './support/actions.ts';
import { expectError } from './support/assertions.ts';
import { countingAuth, GROUP, groupUrn, mint, tokens, USERS, urn } from './support/identities.ts';
import { description, field, testProvider } from './support/providers.ts';
import { FORMS } from './support/routes.ts';
import { connect, inProcessClient, type Routes, TRANSPORTS } from './support/transports.ts';

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
        const connection = await connect(transport, provider);
        const action = await start(connection.client(T.creator), envelope, { complete });
        const id = action.action_id as string;
        const reply = await form.send(connection, id, token);
        const status = expected(access, needs);
        if (status === 200) {
          expect(reply.status, reply.text).toBe(200);
          if (op === 'log') expect(reply.body.entries).toEqual([{ msg: 'hello' }]);
          else expect(reply.body.action_id).toBe(id);
        } else if (status === 401) {
          expectError(reply, 401, 'UnauthorizedRequest');
        } else if (status === 403) {
          expectError(reply, 403, 'ForbiddenRequest');
        } else {
          expectError(reply, 404, 'ActionNotFound');
          // Byte-identical to the answer for an id that does not exist: delete it and ask again.
          await provider.store.delete(id);
          const unknown = await form.send(connection, id, T.creator);
          expect(unknown.status).toBe(404);
          expect(reply.text).toBe(unknown.text);
          // Every header alike but the date and each request's own id.
          const same = ([k]: [string, string]) => k !== 'date' && k !== 'x-request-id';
          expect([...reply.headers].filter(same)).toEqual([...unknown.headers].filter(same));
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
    const connection = await connect(transport, matrixProvider());
    const bodies = new Set<string>();
    for (const token of [T.creator, T.stranger, T.member, LINKED_TO_CREATOR]) {
      const reply = await connection.client(token, 'actions').status('00000000-0000-4000-8000-0000000000ff');
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
    /** The client as `token` (countingAuth's tokens are identity URNs), on the `/actions` family unless told otherwise. */
    const as = (token: string, routes: Routes = 'actions') => inProcessClient(provider, { token, routes });
    const id = (await start(as(creator, 'legacy'), envelope)).action_id as string;
    auth.groupLoads = 0;
    return { auth, as, id };
  }

  it('no group URN anywhere: no group lookup, whoever asks', async () => {
    const { auth, as, id } = await setup({ monitor_by: [monitor], manage_by: [creator] });
    expect((await as(creator).status(id)).status).toBe(200);
    expect((await as(monitor).status(id)).status).toBe(200);
    expect((await as(monitor).log(id)).status).toBe(200);
    expect((await as(monitor).cancel(id)).status).toBe(403);
    expect((await as(member).status(id)).status).toBe(404);
    expect((await as(member).resume(id)).status).toBe(404);
    expect((await as(member).introspect()).status).toBe(200);
    expect((await as(member, 'legacy').run({ body: {} })).status).toBe(202);
    expect((await as(member).enumerate()).status).toBe(200);
    expect(auth.groupLoads).toBe(0);
  });

  it('the creator, or an identity listed before the group is checked, needs no lookup', async () => {
    const { auth, as, id } = await setup({ monitor_by: [monitor, group], manage_by: [creator, group] });
    expect((await as(creator).status(id)).status).toBe(200);
    expect((await as(creator).resume(id)).status).toBe(200);
    expect((await as(monitor).status(id)).status).toBe(200);
    expect((await as(`${member},${monitor}`).status(id)).status).toBe(200);
    expect(auth.groupLoads).toBe(0);
  });

  it('a decision that needs the group loads the groups once per request', async () => {
    const { auth, as, id } = await setup({ monitor_by: [monitor], manage_by: [group] });
    expect((await as(member).status(id)).status).toBe(200);
    expect(auth.groupLoads).toBe(1);
    // monitor (no), manage_by (yes) for visibility, then manage_by again: one load
    expect((await as(member).cancel(id)).status).toBe(200);
    expect(auth.groupLoads).toBe(2);
    const stranger = urn(USERS.stranger);
    expect((await as(stranger).status(id)).status).toBe(404);
    expect(auth.groupLoads).toBe(3);
  });

  it('runnable_by and visible_to with a group look the groups up', async () => {
    const auth = countingAuth({ [member]: [group] });
    const provider = testProvider({
      auth,
      description: description({ title: 't', admin_contact: 'a', runnable_by: [monitor, group], visible_to: [group] }),
    });
    const as = (token: string) => inProcessClient(provider, { token });
    expect((await as(monitor).run({ body: {} })).status).toBe(202);
    expect(auth.groupLoads).toBe(0);
    expect((await as(member).run({ body: {} })).status).toBe(202);
    expect(auth.groupLoads).toBe(1);
    expect((await as(member).introspect()).status).toBe(200);
    expect(auth.groupLoads).toBe(2);
  });
});
