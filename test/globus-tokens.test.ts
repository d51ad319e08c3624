/**
 * @module test/globus-tokens: dependent tokens (`caller.tokenFor`) and the consent flow with
 * `globusAuth` against the fake Globus Auth over real HTTP: the dependent grant request, its
 * cache (one refetch when a cached answer lacks a scope), and ConsentRequired → INACTIVE →
 * resume after consent.
 */
import { describe, expect, it } from 'vitest';
import { type Caller, type DependentToken, GROUPS_SCOPE, memoryCache, type TtlCache, tokenHash } from '../src/index.ts';
import { expectError } from './support/assertions.ts';
import { type Harness, harness, recordingFetch, TRANSFER_SCOPE } from './support/globus.ts';
import { GROUPS, groupUrn, SCOPE, USERS, urn } from './support/identities.ts';

/** Ask the fake (over HTTP, as a client would) what it knows of `token`. */
async function introspectAtFake(h: Harness, token: string): Promise<any> {
  const response = await fetch(`${h.globusUrl}/v2/oauth2/token/introspect`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${h.globus.client.id}:${h.globus.client.secret}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status).toBe(200);
  return response.json();
}

describe('caller.tokenFor(scope) in callbacks', () => {
  it("returns the fake's dependent access token for the scope (one grant for several scopes)", async () => {
    const got: { transfer?: string; groups?: string; byResourceServer?: string } = {};
    const h = await harness({
      provider: {
        run: async ({ caller }) => {
          got.transfer = await caller.tokenFor(TRANSFER_SCOPE);
          got.groups = await caller.tokenFor(GROUPS_SCOPE);
          got.byResourceServer = await caller.tokenFor('transfer.api.globus.org');
          return { status: 'SUCCEEDED', details: { ok: true } };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE] });
    const reply = await h.client(token).run({ body: {} });
    expect(reply.status, JSON.stringify(reply.body)).toBe(202);
    expect(reply.body.status).toBe('SUCCEEDED');
    expect(h.globus.calls.token).toBe(1);
    expect(got.transfer).not.toBe(token);
    expect(got.groups).not.toBe(got.transfer);
    expect(got.byResourceServer).toBe(got.transfer);
    const transfer = await introspectAtFake(h, got.transfer!);
    expect(transfer).toMatchObject({ active: true, scope: TRANSFER_SCOPE, sub: USERS.creator });
    const groups = await introspectAtFake(h, got.groups!);
    expect(groups).toMatchObject({ active: true, scope: GROUPS_SCOPE, sub: USERS.creator });
    // The tokens never leak into the stored action.
    expect(JSON.stringify(reply.body)).not.toContain(got.transfer!);
  });

  it('reuses the cached grant answer in later requests of the same token', async () => {
    const seen: string[] = [];
    const remember = async ({ caller }: { caller: Caller }) => {
      seen.push(await caller.tokenFor(TRANSFER_SCOPE));
      return { status: 'ACTIVE' as const, details: {} };
    };
    const h = await harness({ provider: { run: remember, status: remember } });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE] });
    const client = h.client(token);
    const action = (await client.run({ body: {} })).body;
    expect((await client.status(action.action_id)).status).toBe(200);
    h.clock.advance(3600_000); // an hour later: the introspection is re-done, the dependent token is still good
    expect((await client.status(action.action_id)).status).toBe(200);
    expect(h.globus.calls.token).toBe(1);
    expect(new Set(seen).size).toBe(1);
  });

  it('the dependent grant request is POST /v2/oauth2/token with Basic credentials and the dependent_token grant', async () => {
    const record = recordingFetch();
    const h = await harness({
      auth: { fetch: record },
      provider: {
        run: async ({ caller }) => ({
          status: 'SUCCEEDED',
          details: { len: (await caller.tokenFor(TRANSFER_SCOPE)).length },
        }),
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE] });
    expect((await h.client(token).run({ body: {} })).status).toBe(202);
    const grants = record.requests.filter((r) => r.url === `${h.globusUrl}/v2/oauth2/token`);
    expect(grants).toHaveLength(1);
    const grant = grants[0]!;
    expect(grant.method).toBe('POST');
    expect(grant.headers.get('authorization')).toBe(`Basic ${btoa(`${h.globus.client.id}:${h.globus.client.secret}`)}`);
    expect(grant.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(grant.body))).toEqual({
      grant_type: 'urn:globus:auth:grant_type:dependent_token',
      token,
    });
  });

  it('my_groups is called with the Groups dependent token as a Bearer token', async () => {
    const record = recordingFetch();
    let groupsToken = '';
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [GROUPS.lab] }] },
      description: { runnable_by: [groupUrn(GROUPS.lab)] },
      auth: { fetch: record },
      provider: {
        run: async ({ caller }) => {
          groupsToken = await caller.tokenFor(GROUPS_SCOPE);
          return { status: 'SUCCEEDED', details: {} };
        },
      },
    });
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
    const calls = record.requests.filter((r) => r.url === `${h.globusUrl}/v2/groups/my_groups`);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe('GET');
    expect(calls[0]!.headers.get('authorization')).toBe(`Bearer ${groupsToken}`);
    expect(h.globus.calls).toEqual({ introspect: 1, token: 1, groups: 1 });
  });

  it('a cached grant answer lacking the scope is refetched once, and the fresh answer is used and kept', async () => {
    const dependentTokens = memoryCache<DependentToken[]>();
    const seen: string[] = [];
    const h = await harness({
      auth: { caches: { dependentTokens } },
      provider: {
        run: async ({ caller }) => {
          seen.push(await caller.tokenFor(TRANSFER_SCOPE));
          return { status: 'ACTIVE', details: {} };
        },
        status: async ({ caller }) => {
          seen.push(await caller.tokenFor(TRANSFER_SCOPE));
          return { status: 'ACTIVE', details: {} };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE] });
    // An older answer for this token, from before the transfer consent.
    const stale: DependentToken = {
      access_token: 'stale-groups-token',
      resource_server: 'groups.api.globus.org',
      scopes: [GROUPS_SCOPE],
      expires_at: Date.now() + 3600_000,
    };
    dependentTokens.set(await tokenHash(token), [stale], 3600_000);
    const client = h.client(token);
    const action = (await client.run({ body: {} })).body;
    expect(action.status).toBe('ACTIVE');
    expect(h.globus.calls.token).toBe(1);
    expect((await introspectAtFake(h, seen[0]!)).scope).toBe(TRANSFER_SCOPE);
    const cached = await dependentTokens.get(await tokenHash(token));
    expect(cached?.some((t) => t.scopes.includes(TRANSFER_SCOPE) && t.access_token === seen[0])).toBe(true);
    expect((await client.status(action.action_id)).status).toBe(200);
    expect(h.globus.calls.token).toBe(1);
    expect(seen[1]).toBe(seen[0]);
  });

  it('a scope the grant never holds: exactly one refetch per request, then ConsentRequired', async () => {
    const h = await harness({
      provider: {
        run: async ({ caller }) => ({ status: 'SUCCEEDED', details: { t: await caller.tokenFor(TRANSFER_SCOPE) } }),
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [GROUPS_SCOPE] });
    const reply = await h.client(token).run({ body: {} });
    expect(reply.status).toBe(202);
    expect(reply.body.status).toBe('INACTIVE');
    expect(reply.body.details).toEqual({
      code: 'ConsentRequired',
      description: expect.any(String),
      required_scope: `${SCOPE}[${TRANSFER_SCOPE}]`,
      authorization_parameters: {
        session_message: expect.any(String),
        required_scopes: [`${SCOPE}[${TRANSFER_SCOPE}]`],
      },
    });
    expect(h.globus.calls.token).toBe(2);
  });

  it('a token Globus refuses for the grant (invalid_grant) makes the run 401, and nothing is kept', async () => {
    let runCalled = false;
    const h = await harness({
      provider: {
        run: async ({ caller }) => {
          runCalled = true;
          return { status: 'SUCCEEDED', details: { t: await caller.tokenFor(TRANSFER_SCOPE) } };
        },
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE] });
    const client = h.client(token);
    expect((await client.enumerate()).status).toBe(200); // introspected and cached as active
    h.globus.revoke(token);
    expectError(await client.run({ body: {} }), 401, 'UnauthorizedRequest');
    expect(runCalled).toBe(true);
    expect((await client.enumerate({ status: 'active,inactive,succeeded,failed' })).body).toEqual([]);
  });

  it('does not cache dependent tokens that expire within the safety margin', async () => {
    const sets: number[] = [];
    const dependentTokens: TtlCache<DependentToken[]> = {
      get: () => undefined,
      set: (_key, _value, ttl) => void sets.push(ttl),
      delete: () => {},
    };
    const h = await harness({
      fake: { users: [{ id: USERS.member, groups: [GROUPS.lab] }] },
      description: { runnable_by: [groupUrn(GROUPS.lab)] },
      auth: { caches: { dependentTokens } },
    });
    // Tokens living 48 h are cached for at most 47 h; tokens living 30 s are used and not kept.
    expect((await h.client(h.token(USERS.member)).run({ body: {} })).status).toBe(202);
    expect(sets).toHaveLength(1);
    expect(sets[0]).toBeGreaterThan(0);
    expect(sets[0]).toBeLessThanOrEqual(47 * 3600_000);
    expect((await h.client(h.token(USERS.member, { dependentExpiresIn: 30 })).run({ body: {} })).status).toBe(202);
    expect(sets).toHaveLength(1);
  });
});

describe('consent required', () => {
  function consentProvider() {
    const obtained: string[] = [];
    const needTransfer = async ({ caller }: { caller: Caller }) => {
      obtained.push(await caller.tokenFor(TRANSFER_SCOPE));
      return { status: 'SUCCEEDED' as const, details: { transferred: true } };
    };
    return { obtained, provider: { run: needTransfer, resume: needTransfer } };
  }

  it('run answers 202 INACTIVE with the ConsentRequired details; after consent, resume continues to SUCCEEDED', async () => {
    const { obtained, provider } = consentProvider();
    const h = await harness({ provider });
    const before = h.token(USERS.creator, {
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const run = await h.client(before).run({ body: {} });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect(run.body.status).toBe('INACTIVE');
    expect(run.body.completion_time).toBeNull();
    expect(run.body.details).toEqual({
      code: 'ConsentRequired',
      description: expect.any(String),
      required_scope: `${SCOPE}[${TRANSFER_SCOPE}]`,
      authorization_parameters: {
        session_message: run.body.details.description,
        required_scopes: [`${SCOPE}[${TRANSFER_SCOPE}]`],
      },
    });
    expect(obtained).toEqual([]);
    const id = run.body.action_id as string;

    // The stored action says the same.
    const status = await h.client(before).status(id);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('INACTIVE');
    expect(status.body.details.required_scope).toBe(`${SCOPE}[${TRANSFER_SCOPE}]`);

    // Resume with the old token: still no consent, still INACTIVE.
    const again = await h.client(before).resume(id);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('INACTIVE');
    expect(again.body.details.code).toBe('ConsentRequired');

    // The user consents; the client gets a new token for the same user.
    const after = h.token(USERS.creator, { dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE] });
    const resumed = await h.client(after).resume(id);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body.status).toBe('SUCCEEDED');
    expect(resumed.body.details).toEqual({ transferred: true });
    expect(resumed.body.creator_id).toBe(urn(USERS.creator));
    expect(resumed.body.completion_time).toEqual(expect.any(String));
    expect(obtained).toHaveLength(1);
    expect(await introspectAtFake(h, obtained[0]!)).toMatchObject({
      active: true,
      scope: TRANSFER_SCOPE,
      sub: USERS.creator,
    });
  });

  it('the required_scope lists every unapproved scope Globus reports', async () => {
    const { provider } = consentProvider();
    const h = await harness({ provider });
    const other = 'urn:globus:auth:scope:other.api.globus.org:all';
    const token = h.token(USERS.creator, {
      dependentScopes: [TRANSFER_SCOPE, other],
      unconsented: [TRANSFER_SCOPE, other],
    });
    const run = await h.client(token).run({ body: {} });
    expect(run.status).toBe(202);
    expect(run.body.details.required_scope).toBe(`${SCOPE}[${TRANSFER_SCOPE} ${other}]`);
  });

  it('a status callback needing consent turns the action INACTIVE too', async () => {
    const h = await harness({
      provider: {
        run: () => ({ status: 'ACTIVE', details: {} }),
        status: async ({ caller }) => ({
          status: 'SUCCEEDED',
          details: { t: (await caller.tokenFor(TRANSFER_SCOPE)).length },
        }),
      },
    });
    const token = h.token(USERS.creator, { dependentScopes: [TRANSFER_SCOPE], unconsented: [TRANSFER_SCOPE] });
    const action = (await h.client(token).run({ body: {} })).body;
    expect(action.status).toBe('ACTIVE');
    const status = await h.client(token).status(action.action_id);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('INACTIVE');
    expect(status.body.details).toEqual({
      code: 'ConsentRequired',
      description: expect.any(String),
      required_scope: `${SCOPE}[${TRANSFER_SCOPE}]`,
      authorization_parameters: {
        session_message: expect.any(String),
        required_scopes: [`${SCOPE}[${TRANSFER_SCOPE}]`],
      },
    });
  });
});
