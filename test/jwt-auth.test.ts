/** @module test/jwt-auth: jwtAuth's cache: keyed by the token's SHA-256, answering a warm token without verifying it again, negative answers too. */
import { describe, expect, it } from 'vitest';
import { jwtAuth, type TtlCache, tokenHash, type VerifiedToken } from '../src/index.ts';
import { ISSUER, mint, publicKey, SCOPE, USERS } from './support/identities.ts';

function recordingCache(): TtlCache<VerifiedToken | null> & { keys: string[]; values: unknown[]; hits: number } {
  const map = new Map<string, VerifiedToken | null>();
  const keys: string[] = [];
  const values: unknown[] = [];
  const cache = {
    keys,
    values,
    hits: 0,
    get: (key: string) => {
      if (map.has(key)) cache.hits++;
      return map.get(key);
    },
    set(key: string, value: VerifiedToken | null) {
      keys.push(key);
      values.push(value);
      map.set(key, value);
    },
    delete: (key: string) => void map.delete(key),
  };
  return cache;
}

describe('jwtAuth', () => {
  it('caches by the SHA-256 of the token, never the token, and answers a warm token from the cache', async () => {
    const cache = recordingCache();
    const auth = jwtAuth({ key: publicKey, issuer: ISSUER, cache });
    const token = await mint(USERS.creator, { identitySet: [USERS.creator, USERS.creatorLinked] });
    const request = new Request('http://x/');
    const caller = await auth.authenticate({ token, request });
    expect(caller.identities).toEqual([
      `urn:globus:auth:identity:${USERS.creator}`,
      `urn:globus:auth:identity:${USERS.creatorLinked}`,
    ]);
    expect(caller.scopes).toEqual([SCOPE]);
    expect(cache.keys).toEqual([await tokenHash(token)]);
    expect(cache.keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(cache.values)).not.toContain(token);
    expect(cache.hits).toBe(0);
    const second = await auth.authenticate({ token, request });
    expect(second.identity).toBe(caller.identity);
    expect(cache.hits).toBe(1);
    expect(cache.keys).toHaveLength(1);
  });

  it('caches a rejected token too, and rejects it again without verifying', async () => {
    const cache = recordingCache();
    const auth = jwtAuth({ key: publicKey, issuer: 'someone-else', cache });
    const token = await mint(USERS.creator);
    const request = new Request('http://x/');
    await expect(auth.authenticate({ token, request })).rejects.toMatchObject({ code: 'UnauthorizedRequest' });
    expect(cache.values).toEqual([null]);
    expect(cache.hits).toBe(0);
    await expect(auth.authenticate({ token, request })).rejects.toMatchObject({ code: 'UnauthorizedRequest' });
    expect(cache.hits).toBe(1);
    expect(cache.keys).toHaveLength(1);
  });
});
