/**
 * @module test/support/jwt: the jwt-*.test.ts suites' provider (jwtAuth over real HTTP), their
 * own signing key for tokens with exactly the claims a test needs, and a recording cache.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { onTestFinished } from 'vitest';
import { type JwtAuthOptions, jwtAuth, memoryCache, type TtlCache, type VerifiedToken } from '../../src/index.ts';
import { type ActionClient, actionClient } from '../../src/testing/index.ts';
import { ISSUER, SCOPE } from './identities.ts';
import { testProvider } from './providers.ts';
import { listen } from './transports.ts';

/** A provider trusting `options` (issuer ISSUER unless told otherwise), served on a real port. */
export async function serveWith(options: JwtAuthOptions): Promise<(token: string) => ActionClient> {
  const server = await listen(testProvider({ auth: jwtAuth({ issuer: ISSUER, ...options }) }));
  onTestFinished(() => server.close());
  return (token) => actionClient(server.url, { token });
}

/** The suites' own signing key (the shared test key's private half is not exported). */
export const own = await generateKeyPair('ES256');

/** A token signed with `own`, holding the provider scope, ISSUER and `claims` (no `exp` unless given). */
export function signed(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ scope: SCOPE, ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(ISSUER)
    .sign(own.privateKey);
}

/** `exp` an hour from now. */
export const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

/** A cache that records what is set in it, and for how long. */
export function recordingCache(): TtlCache<VerifiedToken | null> & { values: unknown[]; ttls: number[] } {
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
