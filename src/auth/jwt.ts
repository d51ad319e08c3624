/**
 * @module auth/jwt: `jwtAuth()`, an Authenticator for JWT access tokens, verified with jose
 * against a JWKS URL, a local key set or a single key.
 */
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { ActionError } from '../http/errors.ts';
import type { AuthTelemetry } from '../observe/telemetry.ts';
import { cachedAuthentication, type Resolved } from './cached.ts';
import { createCaller } from './caller.ts';
import { fromClaims, type VerifiedToken } from './jwt/claims.ts';
import { JwksUnavailable, jwksReload, resolveKeys } from './jwt/keys.ts';
import { type JwtAuthOptions, resolveJwtOptions } from './jwt/options.ts';
import { periodicCheck } from './periodic-check.ts';
import type { Authenticator, Caller } from './types.ts';

export type { JwtClaimNames, VerifiedToken } from './jwt/claims.ts';
export type { JwtAuthOptions } from './jwt/options.ts';

/** How long a refused token stays refused without being verified again (ms). */
const NEGATIVE_TTL = 30_000;

/**
 * Whether a refusal may be kept: not when it may soon be wrong (a key the JWKS will have after its
 * next reload, a token not valid yet), nor when the error is not jose's verdict on the token.
 */
function keepRefusal(error: unknown): boolean {
  if (error instanceof joseErrors.JWKSNoMatchingKey) return false;
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf') return false;
  return error instanceof joseErrors.JOSEError;
}

/**
 * An Authenticator for JWT bearer tokens. An unreachable, failing or garbage JWKS is a 503 and
 * never kept; a token without `exp` (unless `requireExp: false`), or whose identity claims are not
 * Globus identities, is a 401.
 *
 * @example
 * ```ts
 * const auth = jwtAuth({ jwks: 'https://issuer.example/.well-known/jwks.json', issuer: 'https://issuer.example', audience: 'my-provider' })
 * ```
 */
export function jwtAuth(options: JwtAuthOptions): Authenticator {
  const { claimNames, cacheTtl, cache, rejectedCache, clock, jwksTimeout, healthInterval, verifyOptions } =
    resolveJwtOptions(options);
  const keys = resolveKeys({ jwks: options.jwks, key: options.key, fetch: options.fetch, jwksTimeout });
  const reload = jwksReload(keys);

  async function verify(token: string): Promise<Resolved<VerifiedToken | null>> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { ...verifyOptions, currentDate: new Date(clock()) }));
    } catch (error) {
      // Only a JWKS that could not be had is the issuer's fault; everything else (a forged or
      // malformed token, an `alg` the key cannot verify) is the token's.
      if (error instanceof JwksUnavailable || error instanceof joseErrors.JWKSTimeout) {
        throw new ActionError('ServiceUnavailable', 'The token issuer could not be reached', { cause: error });
      }
      return { value: null, ttl: keepRefusal(error) ? NEGATIVE_TTL : 0, cause: error };
    }
    const verified = fromClaims(payload, claimNames);
    if (verified === null) return { value: null, ttl: NEGATIVE_TTL, cause: NO_IDENTITY };
    const untilExpiry = payload.exp === undefined ? cacheTtl : payload.exp * 1000 - clock();
    return { value: verified, ttl: Math.min(cacheTtl, untilExpiry) };
  }

  let telemetry: AuthTelemetry | undefined;
  const authenticate = cachedAuthentication<VerifiedToken | null>({
    cache,
    looked: (hit) => telemetry?.cacheLookup('jwt', hit),
    // The same cache given twice needs no second lookup.
    ...(rejectedCache === cache ? {} : { rejected: { cache: rejectedCache, is: (value) => value === null } }),
    resolve: verify,
    toCaller,
  });
  const instrument = (given: AuthTelemetry) => {
    telemetry = given;
  };
  // Local keys have nothing to reach: no health check, so auth passes.
  if (reload === undefined) return { authenticate: ({ token }) => authenticate(token), instrument };
  return {
    authenticate: ({ token }) => authenticate(token),
    instrument,
    health: periodicCheck(
      async () => {
        await reload();
        return { reachable: true };
      },
      { interval: healthInterval, clock },
    ),
  };
}

/** The cause of a refusal for claims that name no Globus identity (for the debug line, not the caller). */
const NO_IDENTITY = new Error('the claims name no valid Globus identity (sub, identity_set, groups)');
/** The cause of a refusal answered from the cache. */
const REFUSED_EARLIER = new Error('refused within the last 30 s (a cached refusal)');

function toCaller(
  verified: VerifiedToken | null,
  token: string,
  _key: string,
  _context: unknown,
  cause: unknown = REFUSED_EARLIER,
): Caller {
  // The caller is told only that the token is refused; the log line at debug says why.
  if (verified === null) throw new ActionError('UnauthorizedRequest', 'Invalid or expired bearer token', { cause });
  return createCaller({
    identity: verified.identity,
    identities: verified.identities,
    scopes: verified.scopes,
    token,
    knownGroups: verified.groups,
    knownSession: verified.session,
  });
}
