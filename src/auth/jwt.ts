/**
 * @module auth/jwt: `jwtAuth()`, an Authenticator for JWT access tokens, verified with jose
 * against a JWKS URL, a local key set or a single key.
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
  type KeyObject,
} from 'jose';
import { memoryCache, type TtlCache } from '../cache.ts';
import { ActionError } from '../http/errors.ts';
import { cachedAuthentication, type Resolved } from './cached.ts';
import { createCaller, groupUrn, identityUrn } from './caller.ts';
import type { Authenticator, Caller } from './types.ts';

export interface JwtClaimNames {
  /** The effective identity (a Globus identity id or URN). Default `sub`. */
  identity?: string;
  /** Linked identities, an array of ids or URNs. Default `identity_set`. */
  identities?: string;
  /** Granted scopes, a space-separated string or an array. Default `scope` (then `scp`). */
  scope?: string;
  /** Group ids or URNs. Default `groups`. */
  groups?: string;
}

/** What a verified token resolves to; this, never the token, is what the cache holds. */
export interface VerifiedToken {
  identity: string;
  identities: string[];
  scopes: string[];
  groups: string[];
}

export interface JwtAuthOptions {
  /** Where the signing keys are: a JWKS URL, or a key set. Give this or `key`. */
  jwks?: URL | string | JSONWebKeySet;
  /** A single verification key. */
  key?: CryptoKey | KeyObject | JWK | Uint8Array;
  /** Required `iss`. */
  issuer?: string | string[];
  /** Required `aud`. */
  audience?: string | string[];
  /** Accepted `alg` values (default: what the key allows). */
  algorithms?: string[];
  claims?: JwtClaimNames;
  /** Seconds of clock skew tolerated for `exp`/`nbf`. Default 30. */
  clockTolerance?: number;
  /** Verified tokens are cached until they expire, at most this long (ms). Default 300,000. */
  cacheTtl?: number;
  /** Shared or custom cache; default an in-memory LRU of 10,000 entries. */
  cache?: TtlCache<VerifiedToken | null>;
  /** Injected for remote JWKS fetching. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
}

const NEGATIVE_TTL = 30_000;

/**
 * An Authenticator for JWT bearer tokens.
 *
 * @example
 * ```ts
 * const auth = jwtAuth({ jwks: 'https://issuer.example/.well-known/jwks.json', issuer: 'https://issuer.example', audience: 'my-provider' })
 * ```
 */
export function jwtAuth(options: JwtAuthOptions): Authenticator {
  if (typeof options !== 'object' || options === null) throw new TypeError('jwtAuth: options must be an object');
  if ((options.jwks === undefined) === (options.key === undefined))
    throw new TypeError('jwtAuth: give exactly one of jwks or key');
  const clock = options.clock ?? Date.now;
  const claimNames: Required<JwtClaimNames> = {
    identity: 'sub',
    identities: 'identity_set',
    scope: 'scope',
    groups: 'groups',
    ...options.claims,
  };
  const cacheTtl = options.cacheTtl ?? 300_000;
  if (!(cacheTtl >= 0)) throw new TypeError('jwtAuth: cacheTtl must be a non-negative number');
  const cache = options.cache ?? memoryCache<VerifiedToken | null>({ clock });
  const keys = resolveKeys(options);
  const verifyOptions = {
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
    clockTolerance: options.clockTolerance ?? 30,
  };

  async function verify(token: string): Promise<Resolved<VerifiedToken | null>> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { ...verifyOptions, currentDate: new Date(clock()) }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) {
        throw new ActionError('ServiceUnavailable', 'The token issuer could not be reached', { cause: error });
      }
      return { value: null, ttl: NEGATIVE_TTL };
    }
    const verified = fromClaims(payload, claimNames);
    if (verified === null) return { value: null, ttl: NEGATIVE_TTL };
    const untilExpiry = payload.exp === undefined ? cacheTtl : payload.exp * 1000 - clock();
    return { value: verified, ttl: Math.min(cacheTtl, untilExpiry) };
  }

  const authenticate = cachedAuthentication({ cache, resolve: verify, toCaller });
  return { authenticate: ({ token }) => authenticate(token) };
}

/** What the claims say about the caller; null without an identity. */
function fromClaims(payload: JWTPayload, claimNames: Required<JwtClaimNames>): VerifiedToken | null {
  const sub = payload[claimNames.identity];
  if (typeof sub !== 'string' || sub === '') return null;
  const identity = identityUrn(sub);
  const linked = payload[claimNames.identities];
  const identities = [
    identity,
    ...(Array.isArray(linked) ? linked.filter((x) => typeof x === 'string').map(identityUrn) : []),
  ];
  const rawScope = payload[claimNames.scope] ?? (claimNames.scope === 'scope' ? payload['scp'] : undefined);
  const scopes =
    typeof rawScope === 'string'
      ? rawScope.split(' ').filter(Boolean)
      : Array.isArray(rawScope)
        ? rawScope.map(String)
        : [];
  const rawGroups = payload[claimNames.groups];
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((x) => typeof x === 'string').map(groupUrn) : [];
  return { identity, identities, scopes, groups };
}

function toCaller(verified: VerifiedToken | null, token: string): Caller {
  if (verified === null) throw new ActionError('UnauthorizedRequest', 'Invalid or expired bearer token');
  return createCaller({
    identity: verified.identity,
    identities: verified.identities,
    scopes: verified.scopes,
    token,
    knownGroups: verified.groups,
  });
}

/** Every form of key as a key function: one `jwtVerify` overload fits them all, and jose treats a function's key as it would the key. */
function resolveKeys(options: JwtAuthOptions): JWTVerifyGetKey {
  const { jwks, key } = options;
  if (jwks !== undefined) {
    if (jwks instanceof URL || typeof jwks === 'string') {
      let url: URL;
      try {
        url = new URL(jwks);
      } catch {
        throw new TypeError('jwtAuth: jwks must be an absolute URL or a JSON Web Key Set');
      }
      return createRemoteJWKSet(url, options.fetch === undefined ? {} : { [customFetch]: options.fetch });
    }
    if (typeof jwks !== 'object' || !Array.isArray(jwks.keys))
      throw new TypeError('jwtAuth: jwks must be a URL or a { keys: [...] } set');
    return createLocalJWKSet(jwks);
  }
  if (isJwk(key)) return createLocalJWKSet({ keys: [key] });
  const single = key as CryptoKey | KeyObject | Uint8Array;
  return () => single;
}

function isJwk(key: unknown): key is JWK {
  return typeof key === 'object' && key !== null && typeof (key as { kty?: unknown }).kty === 'string';
}
