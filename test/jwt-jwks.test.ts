/**
 * @module test/jwt-jwks: `jwtAuth` with a real JWKS endpoint on a port: a JWKS that cannot be had
 * (5xx, 404, a redirect, garbage, refused, hanging) is 503 and never a cached 401, and the next
 * request after it recovers is let in; an `alg` the key cannot verify is 401, not 503.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { expectError } from './support/assertions.ts';
import { ISSUER, mint, publicKey, SCOPE, USERS } from './support/identities.ts';
import { startJwks, testKeySet } from './support/jwks.ts';
import { inAnHour, serveWith } from './support/jwt.ts';
import { freePort } from './support/ports.ts';

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
