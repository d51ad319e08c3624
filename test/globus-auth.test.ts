/**
 * @module test/globus-auth: `globusAuth()` against the fake Globus Auth served over real HTTP:
 * the Authentication rows of the wire contract, the exact introspection request, and the
 * introspection cache (30 s, keyed by sha256(token), single flight).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createActionProvider, globusAuth, type Introspection, silentLogger, type TtlCache } from '../src/index.ts';
import { actionClient, fakeGlobus } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { harness, recordingFetch, startGlobus } from './support/globus.ts';
import { OTHER_SCOPE, SCOPE, USERS } from './support/identities.ts';
import { description } from './support/providers.ts';
import { inProcessClient, listen } from './support/transports.ts';

const EXTRA_SCOPE = 'https://auth.globus.org/scopes/22222222-2222-4222-8222-222222222222/extra';

/** Routes that need a token (ids need not exist: authentication comes first). */
const ROUTES: [string, string][] = [
  ['POST', '/run'],
  ['GET', '/actions'],
  ['GET', '/some-id/status'],
  ['POST', '/some-id/cancel'],
];

describe('authentication with globusAuth (real HTTP on both sides)', () => {
  describe.each(ROUTES)('%s %s', (method, path) => {
    const body = method === 'POST' ? { body: { request_id: 'r', body: {} } } : {};
    it.each([
      ['no Authorization header', {}],
      ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['Bearer with an empty token', { authorization: 'Bearer ' }],
      ['Bearer followed by spaces only', { authorization: 'Bearer    ' }],
    ] as [string, Record<string, string>][])('%s → 401 without calling Globus', async (_, headers) => {
      const h = await harness();
      const reply = await h.raw(method, path, { headers, ...body });
      expectError(reply, 401, 'UnauthorizedRequest');
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
      expect(h.globus.calls).toEqual({ introspect: 0, token: 0, groups: 0 });
    });
  });

  it('accepts the scheme in lower case (ours: RFC 7235)', async () => {
    const h = await harness();
    const token = h.token(USERS.creator);
    const reply = await h.raw('GET', '/actions', { headers: { authorization: `bearer ${token}` } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toEqual([]);
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('accepts extra spaces around and inside the header, and introspects the bare token', async () => {
    const record = recordingFetch();
    const h = await harness({ auth: { fetch: record } });
    const token = h.token(USERS.creator);
    const reply = await h.raw('POST', '/run', {
      headers: { authorization: `Bearer    ${token}   ` },
      body: { request_id: 'r1', body: {} },
    });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.body.creator_id).toBe(`urn:globus:auth:identity:${USERS.creator}`);
    expect(record.requests).toHaveLength(1);
    expect(new URLSearchParams(record.requests[0]!.body).get('token')).toBe(token);
  });

  it('an inactive token → 401', async () => {
    const h = await harness();
    const reply = await h.client(h.token(USERS.creator, { active: false })).enumerate();
    expectError(reply, 401, 'UnauthorizedRequest');
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('an unknown token → 401', async () => {
    const h = await harness();
    const reply = await h.client('never-issued-by-globus').enumerate();
    expectError(reply, 401, 'UnauthorizedRequest');
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('an expired token → 401', async () => {
    const h = await harness();
    const reply = await h.client(h.token(USERS.creator, { expiresIn: -60 })).enumerate();
    expectError(reply, 401, 'UnauthorizedRequest');
  });

  it('a token that expires at Globus is refused once the cached answer is older than 30 s', async () => {
    const fakeClock = { now: Date.now() };
    const h = await harness({ fake: { clock: () => fakeClock.now } });
    const token = h.token(USERS.creator, { expiresIn: 10 });
    expect((await h.client(token).enumerate()).status).toBe(200);
    fakeClock.now += 11_000;
    h.clock.advance(30_001);
    expectError(await h.client(token).enumerate(), 401, 'UnauthorizedRequest');
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('a revoked token → 401 once the 30 s cache entry is gone', async () => {
    const h = await harness();
    const token = h.token(USERS.creator);
    expect((await h.client(token).enumerate()).status).toBe(200);
    h.globus.revoke(token);
    h.clock.advance(30_001);
    expectError(await h.client(token).enumerate(), 401, 'UnauthorizedRequest');
  });

  it('a token revoked before its first use → 401', async () => {
    const h = await harness();
    const token = h.token(USERS.creator);
    h.globus.revoke(token);
    expectError(await h.client(token).enumerate(), 401, 'UnauthorizedRequest');
  });

  it('an active token without the provider scope → 401', async () => {
    const h = await harness();
    const reply = await h.client(h.token(USERS.creator, { scopes: [OTHER_SCOPE] })).run({ request_id: 'r', body: {} });
    expectError(reply, 401, 'UnauthorizedRequest');
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('an active token with no scope at all → 401', async () => {
    const h = await harness();
    expectError(await h.client(h.token(USERS.creator, { scopes: [] })).enumerate(), 401, 'UnauthorizedRequest');
  });

  it('additional_scopes: a token holding only one of them is accepted (ours), a token holding none is not', async () => {
    const h = await harness({ description: { additional_scopes: [OTHER_SCOPE, EXTRA_SCOPE] } });
    const onlyExtra = h.token(USERS.creator, { scopes: [EXTRA_SCOPE] });
    const run = await h.client(onlyExtra).run({ request_id: 'r', body: {} });
    expect(run.status, run.text).toBe(202);
    expect((await h.client(onlyExtra).status(run.body.action_id)).status).toBe(200);
    const onlyOther = h.token(USERS.creator, { scopes: [OTHER_SCOPE, 'openid', 'email'] });
    expect((await h.client(onlyOther).enumerate()).status).toBe(200);
    const none = h.token(USERS.creator, { scopes: ['openid', 'email'] });
    expectError(await h.client(none).enumerate(), 401, 'UnauthorizedRequest');
    const doc = (await h.client().introspect()).body;
    expect(doc.globus_auth_scope).toBe(SCOPE);
    expect(JSON.stringify(doc)).not.toContain(EXTRA_SCOPE);
  });

  it('a public GET / never calls Globus, with or without a token', async () => {
    const h = await harness();
    expect((await h.client().introspect()).status).toBe(200);
    expect((await h.client('garbage').introspect()).status).toBe(200);
    expect((await h.client(h.token(USERS.creator)).introspect()).status).toBe(200);
    expect(h.globus.calls).toEqual({ introspect: 0, token: 0, groups: 0 });
  });
});

describe('the introspection request', () => {
  it('is exactly POST /v2/oauth2/token/introspect with HTTP Basic client credentials and token=...&include=identity_set', async () => {
    const record = recordingFetch();
    const h = await harness({ auth: { fetch: record } });
    const token = h.token(USERS.creator);
    expect((await h.client(token).enumerate()).status).toBe(200);
    expect(record.requests).toHaveLength(1);
    const request = record.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`${h.globusUrl}/v2/oauth2/token/introspect`);
    const expectedBasic = `Basic ${Buffer.from(`${h.globus.client.id}:${h.globus.client.secret}`).toString('base64')}`;
    expect(request.headers.get('authorization')).toBe(expectedBasic);
    expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request.body).toBe(`token=${encodeURIComponent(token)}&include=identity_set`);
    // The request really reached the fake over HTTP and was answered there.
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('form-encodes a token holding characters that need escaping', async () => {
    const record = recordingFetch(() => Response.json({ active: false }));
    const auth = globusAuth({ clientId: 'c', clientSecret: 's', authUrl: 'http://auth.invalid', fetch: record });
    const token = 'a+b/c=d&e%f';
    await expect(auth.authenticate({ token, request: new Request('http://x/') })).rejects.toMatchObject({
      code: 'UnauthorizedRequest',
    });
    expect(record.requests[0]!.body).toBe('token=a%2Bb%2Fc%3Dd%26e%25f&include=identity_set');
    expect(new URLSearchParams(record.requests[0]!.body).get('token')).toBe(token);
  });

  it('the fake served over HTTP answers the request globusAuth builds', async () => {
    const { globus, url } = await startGlobus({ users: [{ id: USERS.creator, linked: [USERS.creatorLinked] }] });
    const auth = globusAuth(globus.authOptions(url));
    const token = globus.issueToken({ user: USERS.creator, scopes: [SCOPE, OTHER_SCOPE] });
    const who = await auth.authenticate({ token, request: new Request('http://x/') });
    expect(who.identity).toBe(`urn:globus:auth:identity:${USERS.creator}`);
    expect(who.identities).toEqual([
      `urn:globus:auth:identity:${USERS.creator}`,
      `urn:globus:auth:identity:${USERS.creatorLinked}`,
    ]);
    expect(who.scopes).toEqual([SCOPE, OTHER_SCOPE]);
    expect(who.token).toBe(token);
    expect(JSON.stringify(who)).not.toContain(token);
  });
});

/** A TtlCache that records every key and value it is given. */
function recordingCache<V>(): TtlCache<V> & { sets: { key: string; value: V; ttl: number }[]; gets: string[] } {
  const map = new Map<string, V>();
  const sets: { key: string; value: V; ttl: number }[] = [];
  const gets: string[] = [];
  return {
    sets,
    gets,
    get(key) {
      gets.push(key);
      return map.get(key);
    },
    set(key, value, ttl) {
      sets.push({ key, value, ttl });
      map.set(key, value);
    },
    delete(key) {
      map.delete(key);
    },
  };
}

describe('introspection cache and single flight', () => {
  it('200 concurrent requests carrying one new token cause exactly one introspection', async () => {
    const h = await harness({ fake: { latency: 50 } });
    const token = h.token(USERS.creator);
    const replies = await Promise.all(Array.from({ length: 200 }, () => h.client(token).enumerate()));
    expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('200 concurrent status requests of one new token: one introspection, and all see the action', async () => {
    const h = await harness();
    const creatorToken = h.token(USERS.creator);
    const action = (await h.client(creatorToken).run({ body: {} })).body;
    h.globus.resetCalls();
    const token = h.token(USERS.creator);
    const replies = await Promise.all(Array.from({ length: 200 }, () => h.client(token).status(action.action_id)));
    expect(replies.every((r) => r.status === 200 && r.body.action_id === action.action_id)).toBe(true);
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('a cached token causes no call until 30 s have passed, then exactly one', async () => {
    const h = await harness();
    const token = h.token(USERS.creator);
    expect((await h.client(token).enumerate()).status).toBe(200);
    expect(h.globus.calls.introspect).toBe(1);
    h.clock.advance(29_000);
    expect((await h.client(token).enumerate()).status).toBe(200);
    expect((await h.client(token).run({ request_id: 'x', body: {} })).status).toBe(202);
    expect(h.globus.calls.introspect).toBe(1);
    h.clock.advance(1_001);
    expect((await h.client(token).enumerate()).status).toBe(200);
    expect((await h.client(token).enumerate()).status).toBe(200);
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('inactive answers are cached too', async () => {
    const h = await harness();
    const token = h.token(USERS.creator, { active: false });
    expectError(await h.client(token).enumerate(), 401, 'UnauthorizedRequest');
    expectError(await h.client(token).enumerate(), 401, 'UnauthorizedRequest');
    expect(h.globus.calls.introspect).toBe(1);
    h.clock.advance(30_001);
    expectError(await h.client(token).enumerate(), 401, 'UnauthorizedRequest');
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('concurrent requests with an unknown token share one introspection too', async () => {
    const h = await harness({ fake: { latency: 50 } });
    const replies = await Promise.all(Array.from({ length: 50 }, () => h.client('unknown-token').enumerate()));
    expect(replies.every((r) => r.status === 401)).toBe(true);
    expect(h.globus.calls.introspect).toBe(1);
  });

  it('each token is introspected on its own', async () => {
    const h = await harness();
    const a = h.token(USERS.creator);
    const b = h.token(USERS.stranger);
    await Promise.all([a, b, a, b].map((token) => h.client(token).enumerate()));
    expect(h.globus.calls.introspect).toBe(2);
  });

  it('keys on the SHA-256 of the token: 64 hex characters, never the token, which is in no cached value', async () => {
    const { globus, url } = await startGlobus({ users: [{ id: USERS.creator, linked: [USERS.creatorLinked] }] });
    const introspection = recordingCache<Introspection>();
    const provider = createActionProvider({
      description: description({ title: 't', admin_contact: 'a' }),
      auth: globusAuth({ ...globus.authOptions(url), caches: { introspection } }),
      logger: silentLogger,
      run: () => ({ status: 'SUCCEEDED', details: {} }),
    });
    const server = await listen(provider);
    try {
      const as = (token: string) => actionClient(server.url, { token });
      const active = globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
      const inactive = globus.issueToken({ user: USERS.creator, scopes: [SCOPE], active: false });
      expect((await as(active).enumerate()).status).toBe(200);
      expect((await as(inactive).enumerate()).status).toBe(401);
      expect((await as(active).enumerate()).status).toBe(200);
      expect(globus.calls.introspect).toBe(2);
      expect(introspection.sets).toHaveLength(2);
      const sha = (t: string) => createHash('sha256').update(t).digest('hex');
      expect(introspection.sets.map((s) => s.key)).toEqual([sha(active), sha(inactive)]);
      for (const key of [...introspection.gets, ...introspection.sets.map((s) => s.key)]) {
        expect(key).toMatch(/^[0-9a-f]{64}$/);
        expect(key).not.toBe(active);
        expect(key).not.toBe(inactive);
      }
      for (const { value, ttl } of introspection.sets) {
        expect(ttl).toBe(30_000);
        const json = JSON.stringify(value);
        expect(json).not.toContain(active);
        expect(json).not.toContain(inactive);
      }
      expect(introspection.sets[0]!.value).toEqual({
        active: true,
        scope: SCOPE,
        sub: USERS.creator,
        identity_set: [USERS.creator, USERS.creatorLinked],
      });
      expect(introspection.sets[1]!.value).toEqual({ active: false });
    } finally {
      await server.close();
    }
  });

  it('a cache shared by two providers spares the second one the introspection', async () => {
    const { globus, url } = await startGlobus();
    const introspection = recordingCache<Introspection>();
    const make = () =>
      createActionProvider({
        description: description({ title: 't', admin_contact: 'a' }),
        auth: globusAuth({ ...globus.authOptions(url), caches: { introspection } }),
        logger: silentLogger,
        run: () => ({ status: 'SUCCEEDED', details: {} }),
      });
    const token = globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    expect((await inProcessClient(make(), { token }).enumerate()).status).toBe(200);
    expect((await inProcessClient(make(), { token }).enumerate()).status).toBe(200);
    expect(globus.calls.introspect).toBe(1);
  });

  it('without shared caches, each provider instance keeps its own', async () => {
    const globus = fakeGlobus();
    const make = () =>
      createActionProvider({
        description: description({ title: 't', admin_contact: 'a' }),
        auth: globusAuth(globus.authOptions()),
        logger: silentLogger,
        run: () => ({ status: 'SUCCEEDED', details: {} }),
      });
    const token = globus.issueToken({ user: USERS.creator, scopes: [SCOPE] });
    const one = inProcessClient(make(), { token });
    const two = inProcessClient(make(), { token });
    expect((await one.enumerate()).status).toBe(200);
    expect((await one.enumerate()).status).toBe(200);
    expect((await two.enumerate()).status).toBe(200);
    expect(globus.calls.introspect).toBe(2);
  });
});
