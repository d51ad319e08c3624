/**
 * @module test/jwt-claims: the claims `jwtAuth` insists on, through a provider over real HTTP:
 * `exp` (unless `requireExp: false`) and the cache lifetime it allows (capped by `cacheTtl`, at
 * most an hour), and identity claims that are Globus identities (no group URN, no garbage).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { jwtAuth } from '../src/index.ts';
import { actionClient } from '../src/testing/index.ts';
import { expectError } from './support/assertions.ts';
import { manualClock } from './support/globus.ts';
import { GROUP, groupUrn, ISSUER, publicKey, SCOPE, USERS, urn } from './support/identities.ts';
import { inAnHour, own, recordingCache, serveWith, signed } from './support/jwt.ts';
import { description, testProvider } from './support/providers.ts';
import { listen } from './support/transports.ts';

/** An identity id with letters in it (the USERS ids have none). */
const MIXED_CASE = 'c0ffee00-abcd-4ef0-8abc-def012345678';

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
      session: { authentications: [{ identity: urn(USERS.creator), mfa: false }], policies: {} },
    });
  });
});
