/**
 * @module test/globus-fake: the fake Globus Auth and Groups itself, checked against the wire
 * format of ../shared/reference/globus-payloads.md, both as an injected fetch and over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { GROUPS_SCOPE } from '../src/index.ts';
import { type FakeGlobus, fakeGlobus } from '../src/testing/index.ts';
import { listen } from '../src/testing/node.ts';
import { startGlobus, TRANSFER_SCOPE } from './support/globus.ts';
import { GROUPS, SCOPE, USERS } from './support/identities.ts';

interface Wire {
  globus: FakeGlobus;
  base: string;
  fetch: typeof fetch;
}

const WIRES: { name: string; make: (options?: Parameters<typeof fakeGlobus>[0]) => Promise<Wire> }[] = [
  {
    name: 'injected fetch',
    make: async (options) => {
      const globus = fakeGlobus(options);
      const { authUrl, fetch } = globus.authOptions();
      return { globus, base: authUrl, fetch: fetch! };
    },
  },
  {
    name: 'real HTTP',
    make: async (options) => {
      const { globus, url } = await startGlobus(options);
      return { globus, base: url, fetch: (input, init) => fetch(input, init) };
    },
  },
];

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

/** `authorization: null` sends no Authorization header. */
async function post(
  w: Wire,
  path: string,
  form: Record<string, string>,
  authorization: string | null,
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await w.fetch(`${w.base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization === null ? {} : { authorization }),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const introspect = (
  w: Wire,
  token: string,
  include = true,
  authorization: string | null = basic(w.globus.client.id, w.globus.client.secret),
) => post(w, '/v2/oauth2/token/introspect', include ? { token, include: 'identity_set' } : { token }, authorization);

const grant = (
  w: Wire,
  token: string,
  authorization: string | null = basic(w.globus.client.id, w.globus.client.secret),
) => post(w, '/v2/oauth2/token', { grant_type: 'urn:globus:auth:grant_type:dependent_token', token }, authorization);

async function myGroups(w: Wire, bearer?: string): Promise<{ status: number; body: any }> {
  const response = await w.fetch(`${w.base}/v2/groups/my_groups`, {
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });
  return { status: response.status, body: await response.json() };
}

describe.each(WIRES)('the fake Globus ($name)', ({ make }) => {
  const users = [
    {
      id: USERS.creator,
      linked: [USERS.creatorLinked],
      groups: [GROUPS.lab, GROUPS.other],
      username: 'willy@wonka.com',
      name: 'Willy Wonka',
      email: 'willy@wonka.com',
    },
  ];

  it('introspection of an active token has the keys of the real answer', async () => {
    const w = await make({ users });
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE, 'openid'], clientId: 'flows' });
    const reply = await introspect(w, token);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(reply.body).sort()).toEqual(
      [
        'active',
        'aud',
        'client_id',
        'dependent_tokens_cache_id',
        'email',
        'exp',
        'iat',
        'identity_set',
        'iss',
        'name',
        'nbf',
        'scope',
        'sub',
        'token_type',
        'username',
      ].sort(),
    );
    const body = reply.body;
    expect(body).toMatchObject({
      active: true,
      scope: `${SCOPE} openid`,
      client_id: 'flows',
      sub: USERS.creator,
      username: 'willy@wonka.com',
      name: 'Willy Wonka',
      email: 'willy@wonka.com',
      iss: 'https://auth.globus.org',
      identity_set: [USERS.creator, USERS.creatorLinked],
    });
    expect(body.token_type.toLowerCase()).toBe('bearer');
    expect(body.aud).toEqual(expect.arrayContaining([w.globus.client.id]));
    for (const key of ['exp', 'iat', 'nbf']) expect(Number.isInteger(body[key])).toBe(true);
    expect(body.exp - body.iat).toBeGreaterThan(3500);
    expect(body.exp - body.iat).toBeLessThanOrEqual(3600);
    expect(typeof body.dependent_tokens_cache_id).toBe('string');
  });

  it('introspection leaves identity_set out unless include=identity_set is asked', async () => {
    const w = await make({ users });
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    const reply = await introspect(w, token, false);
    expect(reply.body.active).toBe(true);
    expect(reply.body).not.toHaveProperty('identity_set');
  });

  it('an inactive, unknown, revoked or expired token introspects as exactly {"active": false}', async () => {
    const now = { t: Date.now() };
    const w = await make({ users, clock: () => now.t });
    const inactive = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE], active: false });
    const revoked = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    w.globus.revoke(revoked);
    const expiring = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE], expiresIn: 60 });
    expect((await introspect(w, expiring)).body.active).toBe(true);
    now.t += 61_000;
    for (const token of [inactive, 'unknown-token', revoked, expiring, '']) {
      const reply = await introspect(w, token);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ active: false });
    }
  });

  it.each([
    ['a wrong secret', (w: Wire) => basic(w.globus.client.id, 'nope')],
    ['an unknown client', (w: Wire) => basic('someone-else', w.globus.client.secret)],
    ['no credentials', () => null],
    ['a Bearer token instead', () => 'Bearer abc'],
    ['Basic with garbage', () => 'Basic %%%not-base64'],
  ] as [string, (w: Wire) => string | null][])(
    'bad client credentials (%s) → 401 {"error":"invalid_client"} on introspect and grant',
    async (_, auth) => {
      const w = await make({ users });
      const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
      const a = await introspect(w, token, true, auth(w));
      expect(a.status).toBe(401);
      expect(a.body).toEqual({ error: 'invalid_client' });
      const b = await grant(w, token, auth(w));
      expect(b.status).toBe(401);
      expect(b.body).toEqual({ error: 'invalid_client' });
    },
  );

  it('any configured client may introspect', async () => {
    const clients = [
      { id: 'provider-a', secret: 'secret-a' },
      { id: 'provider-b', secret: 'secret-b' },
    ];
    const w = await make({ users, clients });
    expect(w.globus.client).toEqual(clients[0]);
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    expect((await introspect(w, token, true, basic('provider-b', 'secret-b'))).body.active).toBe(true);
    expect((await introspect(w, token, true, basic('provider-b', 'secret-a'))).status).toBe(401);
  });

  it('the dependent grant answers a JSON array, one item per resource server, with the documented keys', async () => {
    const w = await make({ users });
    const transferToo = 'urn:globus:auth:scope:transfer.api.globus.org:monitor';
    const token = w.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE, transferToo],
    });
    const reply = await grant(w, token);
    expect(reply.status).toBe(200);
    expect(Array.isArray(reply.body)).toBe(true);
    expect(reply.body).toHaveLength(2);
    for (const item of reply.body) {
      expect(Object.keys(item).sort()).toEqual([
        'access_token',
        'expires_in',
        'resource_server',
        'scope',
        'token_type',
      ]);
      expect(typeof item.access_token).toBe('string');
      expect(item.access_token).not.toBe(token);
      expect(Number.isInteger(item.expires_in)).toBe(true);
      expect(item.expires_in).toBeGreaterThan(0);
      expect(item.token_type.toLowerCase()).toBe('bearer');
    }
    const byServer = Object.fromEntries(reply.body.map((item: any) => [item.resource_server, item.scope]));
    expect(byServer).toEqual({
      'groups.api.globus.org': GROUPS_SCOPE,
      'transfer.api.globus.org': `${TRANSFER_SCOPE} ${transferToo}`,
    });
    // The dependent tokens are real tokens of the fake, for their own scopes only.
    const transfer = reply.body.find((item: any) => item.resource_server === 'transfer.api.globus.org');
    expect((await introspect(w, transfer.access_token)).body).toMatchObject({
      active: true,
      sub: USERS.creator,
      scope: `${TRANSFER_SCOPE} ${transferToo}`,
    });
  });

  it('the dependent grant defaults to the Groups scope', async () => {
    const w = await make({ users });
    const reply = await grant(w, w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] }));
    expect(reply.body).toEqual([
      {
        access_token: expect.any(String),
        resource_server: 'groups.api.globus.org',
        scope: GROUPS_SCOPE,
        expires_in: expect.any(Number),
        token_type: 'bearer',
      },
    ]);
  });

  it('the dependent grant: 403 dependent_consent_required for unconsented scopes, 400 invalid_grant for a dead token', async () => {
    const w = await make({ users });
    const unconsented = w.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      dependentScopes: [TRANSFER_SCOPE],
      unconsented: [TRANSFER_SCOPE],
    });
    const consent = await grant(w, unconsented);
    expect(consent.status).toBe(403);
    expect(consent.body).toMatchObject({
      error: 'dependent_consent_required',
      errors: [{ code: 'DEPENDENT_CONSENT_REQUIRED', unapproved_scopes: [TRANSFER_SCOPE] }],
    });
    for (const dead of ['unknown', w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE], active: false })]) {
      const reply = await grant(w, dead);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: 'invalid_grant' });
    }
    const wrongGrant = await post(
      w,
      '/v2/oauth2/token',
      { grant_type: 'client_credentials' },
      basic(w.globus.client.id, w.globus.client.secret),
    );
    expect(wrongGrant.status).toBe(400);
  });

  it('access_type=offline adds a refresh token to each item; the refresh grant renews it, for its own client only', async () => {
    const w = await make({
      users,
      clients: [
        { id: 'provider', secret: 's1' },
        { id: 'other', secret: 's2' },
      ],
    });
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE], dependentScopes: [TRANSFER_SCOPE] });
    const offline = await post(
      w,
      '/v2/oauth2/token',
      { grant_type: 'urn:globus:auth:grant_type:dependent_token', token, access_type: 'offline' },
      basic('provider', 's1'),
    );
    expect(offline.status).toBe(200);
    const [item] = offline.body;
    expect(Object.keys(item).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'resource_server',
      'scope',
      'token_type',
    ]);
    expect(w.globus.liveRefreshTokens()).toEqual([item.refresh_token]);
    const refresh = (client: string, secret: string, refreshToken = item.refresh_token) =>
      post(w, '/v2/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, basic(client, secret));
    const renewed = await refresh('provider', 's1');
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({
      access_token: expect.any(String),
      refresh_token: item.refresh_token, // not rotating by default
      resource_server: 'transfer.api.globus.org',
      scope: TRANSFER_SCOPE,
      expires_in: expect.any(Number),
      token_type: 'bearer',
      other_tokens: [],
    });
    expect(renewed.body.access_token).not.toBe(item.access_token);
    expect((await introspect(w, renewed.body.access_token, true, basic('provider', 's1'))).body).toMatchObject({
      active: true,
      sub: USERS.creator,
      scope: TRANSFER_SCOPE,
    });
    expect((await refresh('other', 's2')).body).toMatchObject({ error: 'invalid_grant' });
    expect((await refresh('provider', 's1', 'unknown')).status).toBe(400);
    // Without access_type=offline, no refresh token.
    expect(Object.keys((await grant(w, token, basic('provider', 's1'))).body[0])).not.toContain('refresh_token');
  });

  it('rotateRefreshTokens: each refresh answers a new refresh token, and the one used is refused from then on', async () => {
    const w = await make({ users, rotateRefreshTokens: true });
    const auth = basic(w.globus.client.id, w.globus.client.secret);
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE], dependentScopes: [TRANSFER_SCOPE] });
    const form = { grant_type: 'urn:globus:auth:grant_type:dependent_token', token, access_type: 'offline' };
    const first = (await post(w, '/v2/oauth2/token', form, auth)).body[0].refresh_token;
    const renewed = await post(w, '/v2/oauth2/token', { grant_type: 'refresh_token', refresh_token: first }, auth);
    const second = renewed.body.refresh_token;
    expect(second).not.toBe(first);
    expect(w.globus.liveRefreshTokens()).toEqual([second]);
    const reused = await post(w, '/v2/oauth2/token', { grant_type: 'refresh_token', refresh_token: first }, auth);
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('revocation answers {"active": false} for any token, and the token stops working', async () => {
    const w = await make({ users });
    const auth = basic(w.globus.client.id, w.globus.client.secret);
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE], dependentScopes: [TRANSFER_SCOPE] });
    const form = { grant_type: 'urn:globus:auth:grant_type:dependent_token', token, access_type: 'offline' };
    const [item] = (await post(w, '/v2/oauth2/token', form, auth)).body;
    for (const revoked of [item.refresh_token, item.access_token, 'unknown']) {
      expect(await post(w, '/v2/oauth2/token/revoke', { token: revoked }, auth)).toMatchObject({
        status: 200,
        body: { active: false },
      });
    }
    expect(w.globus.revocations).toBe(3);
    expect(w.globus.liveRefreshTokens()).toEqual([]);
    expect((await introspect(w, item.access_token)).body).toEqual({ active: false });
    const refused = await post(
      w,
      '/v2/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: item.refresh_token },
      auth,
    );
    expect(refused.status).toBe(400);
    expect((await post(w, '/v2/oauth2/token/revoke', { token }, basic('nobody', 'x'))).status).toBe(401);
    // revoke() does the same from the test's side, and calls are counted apart from the others.
    w.globus.revoke(token);
    expect((await introspect(w, token)).body).toEqual({ active: false });
    expect(Object.keys(w.globus.calls)).toEqual(['introspect', 'token', 'groups']);
  });

  it("my_groups answers a JSON array of the user's groups, each with an id, for the Groups dependent token only", async () => {
    const w = await make({ users });
    const token = w.globus.issueToken({
      user: USERS.creator,
      scopes: [SCOPE],
      dependentScopes: [GROUPS_SCOPE, TRANSFER_SCOPE],
    });
    const tokens = (await grant(w, token)).body as any[];
    const groupsToken = tokens.find((t) => t.scope === GROUPS_SCOPE).access_token;
    const transferToken = tokens.find((t) => t.scope === TRANSFER_SCOPE).access_token;
    const reply = await myGroups(w, groupsToken);
    expect(reply.status).toBe(200);
    expect(reply.body.map((g: any) => g.id)).toEqual([GROUPS.lab, GROUPS.other]);
    for (const group of reply.body) {
      expect(group).toMatchObject({
        id: expect.any(String),
        name: expect.any(String),
        group_type: 'regular',
        parent_id: null,
      });
      expect(group.my_memberships).toEqual([
        expect.objectContaining({ group_id: group.id, identity_id: USERS.creator, role: 'member', status: 'active' }),
      ]);
    }
    expect((await myGroups(w)).status).toBe(401);
    expect((await myGroups(w, transferToken)).status).toBe(401);
    // The user's own access token is not a Groups token either.
    expect((await myGroups(w, token)).status).toBe(401);
    const lonely = w.globus.issueToken({ user: USERS.stranger, scopes: [SCOPE] });
    const lonelyGroups = (await grant(w, lonely)).body[0].access_token;
    expect((await myGroups(w, lonelyGroups)).body).toEqual([]);
  });

  it('counts every call, and failure injection honours times, status, body and clearFailures', async () => {
    const w = await make({ users });
    const token = w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    w.globus.fail('introspect', { status: 500, times: 2 });
    expect((await introspect(w, token)).status).toBe(500);
    expect((await introspect(w, token)).status).toBe(500);
    expect((await introspect(w, token)).status).toBe(200);
    expect(w.globus.calls).toEqual({ introspect: 3, token: 0, groups: 0 });
    w.globus.fail('token', { status: 200, body: '{"custom":true}' });
    expect((await grant(w, token)).body).toEqual({ custom: true });
    expect((await grant(w, token)).body).toEqual({ custom: true });
    w.globus.clearFailures();
    expect(Array.isArray((await grant(w, token)).body)).toBe(true);
    expect(w.globus.calls).toEqual({ introspect: 3, token: 3, groups: 0 });
    w.globus.resetCalls();
    expect(w.globus.calls).toEqual({ introspect: 0, token: 0, groups: 0 });
  });

  it('a reset failure drops the request: the client sees a network error', async () => {
    const w = await make({ users });
    w.globus.fail('introspect', { reset: true, times: 1 });
    await expect(introspect(w, w.globus.issueToken({ user: USERS.creator, scopes: [SCOPE] }))).rejects.toThrow(
      TypeError,
    );
    expect((await introspect(w, 'x')).body).toEqual({ active: false });
  });

  it('a delayed answer can be abandoned with an AbortSignal', async () => {
    const w = await make({ users });
    w.globus.fail('introspect', { delay: 2000, times: 1 });
    const started = performance.now();
    await expect(
      w.fetch(`${w.base}/v2/oauth2/token/introspect`, {
        method: 'POST',
        body: 'token=x',
        signal: AbortSignal.timeout(100),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('fake Globus helpers', () => {
  it('authOptions() points globusAuth at the injected fetch; authOptions(url) at a server', () => {
    const globus = fakeGlobus();
    const injected = globus.authOptions();
    expect(injected.clientId).toBe(globus.client.id);
    expect(injected.clientSecret).toBe(globus.client.secret);
    expect(injected.fetch).toBe(globus.fetch);
    expect(new URL(injected.authUrl).protocol).toBe('https:');
    const served = globus.authOptions('http://127.0.0.1:9999');
    expect(served).toEqual({
      clientId: globus.client.id,
      clientSecret: globus.client.secret,
      authUrl: 'http://127.0.0.1:9999',
      groupsUrl: 'http://127.0.0.1:9999',
    });
  });

  it('issued tokens are opaque and distinct; a fresh client secret is random', () => {
    const one = fakeGlobus();
    const two = fakeGlobus();
    expect(one.client.secret).not.toBe(two.client.secret);
    const tokens = new Set(Array.from({ length: 100 }, () => one.issueToken({ user: USERS.creator, scopes: [SCOPE] })));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('latency delays every answer', async () => {
    const globus = fakeGlobus({ latency: 100 });
    const started = performance.now();
    const response = await globus.fetch('https://globus.fake/v2/groups/my_groups');
    expect(response.status).toBe(401);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('listen() serves on a free port and close() stops it', async () => {
    const globus = fakeGlobus();
    const server = await listen(globus.app);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server.url}/v2/oauth2/token/introspect`, { method: 'POST', body: 'token=x' });
    expect(response.status).toBe(401);
    await server.close();
    await expect(
      fetch(`${server.url}/v2/oauth2/token/introspect`, { method: 'POST', body: 'token=x' }),
    ).rejects.toThrow();
  });
});
