/**
 * @module test/jwt-refusals: where `jwtAuth` keeps refused tokens: apart from accepted ones, so
 * 20,000 garbage tokens leave a caller's entry in place; for 30 s when the refusal holds, not at
 * all when the next JWKS reload or the clock may accept the token.
 */
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtAuth } from '../src/index.ts';
import { expectError } from './support/assertions.ts';
import { ISSUER, SCOPE, USERS } from './support/identities.ts';
import { inAnHour, own, recordingCache, serveWith } from './support/jwt.ts';
import { testProvider } from './support/providers.ts';

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
