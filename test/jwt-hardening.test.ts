/**
 * @module test/jwt-hardening: what `jwtAuth` refuses and how, through a provider over real HTTP
 * with a real JWKS endpoint: a JWKS that cannot be had is 503 and never a cached 401; an `alg`
 * the key cannot verify, a token without `exp`, an identity claim that is not a Globus identity
 * are 401; cache lifetimes are capped; refused tokens cannot evict accepted ones; the options
 * are checked by name.
 */
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type JwtAuthOptions, jwtAuth, memoryCache, type TtlCache, type VerifiedToken } from '../src/index.ts';
import { type ActionClient, actionClient } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { manualClock } from './support/globus.ts';
import { GROUP, groupUrn, ISSUER, mint, publicKey, SCOPE, USERS, urn } from './support/identities.ts';
import { startJwks, testKeySet } from './support/jwks.ts';
import { freePort } from './support/ports.ts';
import { description, testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

/** A provider trusting `options` (issuer ISSUER unless told otherwise), served on a real port. */
async function serveWith(options: JwtAuthOptions): Promise<(token: string) => ActionClient> {
  const server = await listen(testProvider({ auth: jwtAuth({ issuer: ISSUER, ...options }) }));
  onTestFinished(() => server.close());
  return (token) => actionClient(server.url, { token });
}

/** This file's own signing key: `signed()` makes tokens with exactly the claims a test needs. */
const own = await generateKeyPair('ES256');

/** A token signed with `own`, holding the provider scope, ISSUER and `claims` (no `exp` unless given). */
function signed(claims: Record<string, unknown>, alg = 'ES256'): Promise<string> {
  return new SignJWT({ scope: SCOPE, ...claims }).setProtectedHeader({ alg }).setIssuer(ISSUER).sign(own.privateKey);
}

/** An identity id with letters in it (the USERS ids have none). */
const MIXED_CASE = 'c0ffee00-abcd-4ef0-8abc-def012345678';

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** A cache that records what is set in it, and for how long. */
function recordingCache(): TtlCache<VerifiedToken | null> & { values: unknown[]; ttls: number[] } {
  const inner = memoryCache<VerifiedToken | null>();
  const values: unknown[] = [];
  const ttls: number[] = [];
  return {
    values,
    ttls,
    get: (key) => inner.get(key),
    set(key, value, ttl) {
      values.push(value);
      ttls.push(ttl);
      return inner.set(key, value, ttl);
    },
    delete: (key) => inner.delete(key),
  };
}

describe('a JWKS that cannot be had → 503, never a cached 401', () => {
  it.each([
    ['500', { status: 500, body: '{"error":"boom"}' }],
    ['502', { status: 502, body: '' }],
    ['404 (wrong URL)', { status: 404, body: 'Not Found' }],
    ['a 302 redirect', { status: 302, body: '' }],
    ['200 with a body that is not JSON', { status: 200, body: 'garbage' }],
    ['200 with an HTML page', { status: 200, body: '<html>maintenance</html>' }],
    ['200 with JSON that is not a key set', { status: 200, body: '{"keys":"none"}' }],
    ['200 with keys that are not JWKs', { status: 200, body: '{"keys":[{"n":"x"}]}' }],
  ])('%s → 503; once the JWKS answers, the same token → 200', async (_, failure) => {
    const jwks = await startJwks(failure);
    const as = await serveWith({ jwks: jwks.url });
    const token = await mint(USERS.creator);
    expectError(await as(token).enumerate(), 503, 'ServiceUnavailable');
    expectError(await as(token).enumerate(), 503, 'ServiceUnavailable');
    jwks.answer({ keys: await testKeySet() });
    expect((await as(token).enumerate()).status).toBe(200);
    expect(jwks.requests).toBe(3);
  });

  it('connection refused → 503', async () => {
    const as = await serveWith({ jwks: `http://127.0.0.1:${await freePort()}/jwks.json` });
    expectError(await as(await mint(USERS.creator)).enumerate(), 503, 'ServiceUnavailable');
  });

  it('a hanging JWKS → 503 after jwksTimeout, then 200 once it answers', async () => {
    const jwks = await startJwks('hang');
    const as = await serveWith({ jwks: jwks.url, jwksTimeout: 300 });
    const token = await mint(USERS.creator);
    const started = performance.now();
    expectError(await as(token).enumerate(), 503, 'ServiceUnavailable');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 400);
    jwks.answer({ keys: await testKeySet() });
    expect((await as(token).enumerate()).status).toBe(200);
  });

  it('a working JWKS: a forged token is still 401, and the key set is fetched once', async () => {
    const jwks = await startJwks();
    const as = await serveWith({ jwks: jwks.url });
    const forged = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setSubject(USERS.creator)
      .setExpirationTime('1h')
      .sign((await generateKeyPair('ES256')).privateKey);
    expect((await as(await mint(USERS.creator)).enumerate()).status).toBe(200);
    expectError(await as(forged).enumerate(), 401, 'UnauthorizedRequest');
    expect(jwks.requests).toBe(1);
  });
});

describe('an alg the key cannot verify → 401, not 503', () => {
  const hs256 = () =>
    new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject(USERS.creator)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'));

  it('HS256 against a single ES256 key (a CryptoKey)', async () => {
    const as = await serveWith({ key: publicKey });
    expectError(await as(await hs256()).enumerate(), 401, 'UnauthorizedRequest');
    expect((await as(await mint(USERS.creator)).enumerate()).status).toBe(200);
  });

  it('HS256 against the ES256 key as a JWK, and against a JWKS URL', async () => {
    const asJwk = await serveWith({ key: (await testKeySet()).keys[0]! });
    expectError(await asJwk(await hs256()).enumerate(), 401, 'UnauthorizedRequest');
    const jwks = await startJwks();
    const asUrl = await serveWith({ jwks: jwks.url });
    expectError(await asUrl(await hs256()).enumerate(), 401, 'UnauthorizedRequest');
  });

  it('RS256 against an ES256 key, and an unsigned token (alg none)', async () => {
    const as = await serveWith({ key: publicKey });
    const rsa = await generateKeyPair('RS256');
    const rs256 = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setSubject(USERS.creator)
      .setExpirationTime('1h')
      .sign(rsa.privateKey);
    expectError(await as(rs256).enumerate(), 401, 'UnauthorizedRequest');
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ sub: USERS.creator, iss: ISSUER, scope: SCOPE, exp: inAnHour() })}.`;
    expectError(await as(none).enumerate(), 401, 'UnauthorizedRequest');
  });
});

describe('exp and the cache lifetime', () => {
  it('a token without exp → 401 by default', async () => {
    const as = await serveWith({ key: own.publicKey });
    expectError(await as(await signed({ sub: USERS.creator })).enumerate(), 401, 'UnauthorizedRequest');
    expect((await as(await signed({ sub: USERS.creator, exp: inAnHour() })).enumerate()).status).toBe(200);
  });

  it('requireExp: false lets it in, kept no longer than cacheTtl', async () => {
    const cache = recordingCache();
    const as = await serveWith({ key: own.publicKey, requireExp: false, cacheTtl: 60_000, cache });
    expect((await as(await signed({ sub: USERS.creator })).enumerate()).status).toBe(200);
    expect(cache.ttls).toEqual([60_000]);
  });

  it('a token is kept until its exp when that is sooner, never past cacheTtl, which is at most an hour', async () => {
    const clock = manualClock();
    const cache = recordingCache();
    const as = await serveWith({ key: own.publicKey, cacheTtl: 3_600_000, cache, clock });
    const now = Math.floor(clock() / 1000);
    expect((await as(await signed({ sub: USERS.creator, exp: now + 90 })).enumerate()).status).toBe(200);
    expect((await as(await signed({ sub: USERS.creator, exp: now + 30 * 86_400 })).enumerate()).status).toBe(200);
    expect(cache.ttls[0]).toBeGreaterThan(88_000);
    expect(cache.ttls[0]).toBeLessThanOrEqual(90_000);
    expect(cache.ttls[1]).toBe(3_600_000);
    expect(() => jwtAuth({ key: publicKey, cacheTtl: 3_600_001 })).toThrow(/jwtAuth: cacheTtl must be a number of ms/);
  });
});

describe('identity claims must be Globus identities', () => {
  it.each([
    ['a group URN', groupUrn(GROUP)],
    ['a bare string', 'not-a-uuid'],
    ['an identity URN around garbage', 'urn:globus:auth:identity:not-a-uuid'],
    ['another kind of URN', 'urn:example:user:1'],
    ['an empty string', ''],
    ['a number', 42],
  ])('sub as %s → 401', async (_, sub) => {
    const as = await serveWith({ key: own.publicKey });
    expectError(await as(await signed({ sub, exp: inAnHour() })).enumerate(), 401, 'UnauthorizedRequest');
  });

  it('a group URN as sub cannot run where the group may run (it would have passed as the group)', async () => {
    const server = await listen(
      testProvider({
        auth: jwtAuth({ key: own.publicKey, issuer: ISSUER }),
        description: description({ runnable_by: [groupUrn(GROUP)] }),
      }),
    );
    onTestFinished(() => server.close());
    const token = await signed({ sub: groupUrn(GROUP), exp: inAnHour() });
    expectError(await actionClient(server.url, { token }).run({ body: {} }), 401, 'UnauthorizedRequest');
  });

  it.each([
    ['a group URN among linked identities', { identity_set: [USERS.creator, groupUrn(GROUP)] }],
    ['garbage among linked identities', { identity_set: [USERS.creator, 'x'] }],
    ['linked identities that are not an array', { identity_set: USERS.creatorLinked }],
    ['an identity URN among groups', { groups: [urn(USERS.manager)] }],
    ['another kind of URN among groups', { groups: ['urn:example:group:1'] }],
    ['groups that are not an array', { groups: GROUP }],
  ])('%s → 401', async (_, claims) => {
    const as = await serveWith({ key: own.publicKey });
    expectError(
      await as(await signed({ sub: USERS.creator, exp: inAnHour(), ...claims })).enumerate(),
      401,
      'UnauthorizedRequest',
    );
  });

  it('ids and URNs are accepted, ids in upper case as the lower-case URN, group names as group URNs', async () => {
    const cache = recordingCache();
    const as = await serveWith({ key: own.publicKey, cache });
    const token = await signed({
      sub: urn(USERS.creator),
      identity_set: [MIXED_CASE.toUpperCase()],
      groups: [GROUP, groupUrn(GROUP), 'lab-admins'],
      exp: inAnHour(),
    });
    expect((await as(token).enumerate()).status).toBe(200);
    expect(cache.values[0]).toEqual({
      identity: urn(USERS.creator),
      identities: [urn(USERS.creator), urn(MIXED_CASE)],
      scopes: [SCOPE],
      groups: [groupUrn(GROUP), groupUrn(GROUP), groupUrn('lab-admins')],
    });
  });
});

describe('refused tokens are kept apart, and only while the refusal holds', () => {
  it("20,000 garbage tokens through the handler leave an accepted token's entry in place", async () => {
    // An HMAC secret jose reads afresh at each verification: zeroed, only the cache can still accept the token.
    const secret = new TextEncoder().encode('a-shared-secret-of-32-bytes-long!');
    const hmac = () =>
      new SignJWT({ scope: SCOPE, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setSubject(USERS.creator)
        .setExpirationTime('1h')
        .sign(secret);
    const provider = testProvider({ auth: jwtAuth({ key: secret, issuer: ISSUER, algorithms: ['HS256'] }) });
    const send = async (token: string) =>
      (
        await provider.fetch(
          new Request('http://provider.test/actions', { headers: { authorization: `Bearer ${token}` } }),
        )
      ).status;
    const accepted = await hmac();
    const unseen = await hmac();
    expect(await send(accepted)).toBe(200);
    secret.fill(0);
    expect(await send(unseen)).toBe(401);
    // Twice the default cache of 10,000: with refusals in the same cache, this evicted the entry.
    for (let i = 0; i < 20_000; i++) expect(await send(`garbage-${i}`)).toBe(401);
    expect(await send(accepted)).toBe(200);
  }, 60_000);

  it('kept: a forged signature (30 s, in rejectedCache); not kept: an unknown kid, a token not valid yet, an alg the key cannot verify', async () => {
    const cache = recordingCache();
    const rejectedCache = recordingCache();
    const jwk = { ...(await exportJWK(own.publicKey)), alg: 'ES256', kid: 'current' };
    const as = await serveWith({ jwks: { keys: [jwk] }, cache, rejectedCache });
    const other = await generateKeyPair('ES256');
    const token = (kid: string, key: CryptoKey, notBefore?: number) => {
      const jwt = new SignJWT({ scope: SCOPE, sub: USERS.creator, exp: inAnHour() }).setProtectedHeader({
        alg: 'ES256',
        kid,
      });
      return (notBefore === undefined ? jwt : jwt.setNotBefore(notBefore)).setIssuer(ISSUER).sign(key);
    };
    expect((await as(await token('current', own.privateKey)).enumerate()).status).toBe(200);
    expectError(await as(await token('current', other.privateKey)).enumerate(), 401, 'UnauthorizedRequest');
    expect(rejectedCache.values).toEqual([null]);
    expect(rejectedCache.ttls).toEqual([30_000]);
    // The key may be in the JWKS after its next reload; the token may be valid in a minute.
    expectError(await as(await token('next', other.privateKey)).enumerate(), 401, 'UnauthorizedRequest');
    const soon = Math.floor(Date.now() / 1000) + 600;
    expectError(await as(await token('current', own.privateKey, soon)).enumerate(), 401, 'UnauthorizedRequest');
    expect(rejectedCache.values).toHaveLength(1);
    expect(cache.values).toHaveLength(1);

    const single = recordingCache();
    const asSingle = await serveWith({ key: own.publicKey, cache: single, rejectedCache: single });
    const hs256 = await new SignJWT({ scope: SCOPE, sub: USERS.creator, exp: inAnHour() })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'));
    expectError(await asSingle(hs256).enumerate(), 401, 'UnauthorizedRequest');
    expect(single.values).toEqual([]);
  });

  it('with only cache given, refusals go there too, as before', async () => {
    const cache = recordingCache();
    const as = await serveWith({ key: own.publicKey, cache });
    expectError(await as('garbage').enumerate(), 401, 'UnauthorizedRequest');
    expect(cache.values).toEqual([null]);
  });
});

describe('the options, checked by name', () => {
  it.each([
    ['cacheTtl', [Number.POSITIVE_INFINITY, Number.NaN, -1, '5', 3_600_001]],
    ['jwksTimeout', [0, -1, '5', Number.POSITIVE_INFINITY]],
    ['clockTolerance', [-1, '30', Number.NaN, 86_401]],
    ['requireExp', ['no', 0]],
    ['issuer', [5, [1]]],
    ['audience', [{}, ['a', 2]]],
    ['algorithms', ['ES256', [1]]],
    ['claims', [{ identity: 5 }, 'sub']],
    ['cache', [{}, { get: () => undefined }]],
    ['rejectedCache', [{ get: () => undefined, set: () => {} }]],
    ['fetch', ['fetch']],
    ['clock', [5]],
  ] as const)('%s', (name, values) => {
    for (const value of values) {
      expect(() => jwtAuth({ key: publicKey, [name]: value } as JwtAuthOptions), String(value)).toThrow(
        new RegExp(`^jwtAuth: ${name} `),
      );
    }
  });

  it('accepts the bounds and the defaults', () => {
    expect(() =>
      jwtAuth({ key: publicKey, cacheTtl: 0, jwksTimeout: 1, clockTolerance: 0, requireExp: false }),
    ).not.toThrow();
    expect(() => jwtAuth({ key: publicKey, cacheTtl: 3_600_000, rejectedCache: memoryCache() })).not.toThrow();
  });
});
