/**
 * @module auth/jwt/options: what `jwtAuth` accepts, checked up front by `resolveJwtOptions`
 * with a TypeError naming the bad option.
 */
import type { CryptoKey, JSONWebKeySet, JWK, KeyObject } from 'jose';
import { memoryCache, type TtlCache } from '../../cache.ts';
import type { JwtClaimNames, VerifiedToken } from './claims.ts';

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
  /** Refuse tokens without `exp` (they would never expire). Default true. */
  requireExp?: boolean;
  /** Verified tokens are cached until they expire, at most this long (ms, at most 3,600,000). Default 300,000. */
  cacheTtl?: number;
  /** Shared or custom cache; default an in-memory LRU of 10,000 entries. */
  cache?: TtlCache<VerifiedToken | null>;
  /**
   * Where refused tokens are kept (30 s), apart from accepted ones so that garbage tokens cannot
   * evict callers. Default: an in-memory LRU of 1,000, or `cache` when only that is given.
   */
  rejectedCache?: TtlCache<VerifiedToken | null>;
  /** How long one JWKS fetch may take (ms); longer is a 503. Default 5,000. */
  jwksTimeout?: number;
  /** Injected for remote JWKS fetching. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /**
   * With a JWKS URL, `provider.health()` fetches the key set at most once per this many ms,
   * however often it is asked. Default 30,000; at least 1,000.
   */
  healthInterval?: number;
}

/** The options once checked, with every default filled in. */
export interface ResolvedJwtOptions {
  claimNames: Required<JwtClaimNames>;
  cacheTtl: number;
  cache: TtlCache<VerifiedToken | null>;
  rejectedCache: TtlCache<VerifiedToken | null>;
  clock: () => number;
  jwksTimeout: number;
  healthInterval: number;
  verifyOptions: {
    issuer?: string | string[];
    audience?: string | string[];
    algorithms?: string[];
    requiredClaims?: string[];
    clockTolerance: number;
  };
}

/** An hour: past it a verified token is checked again, whatever its `exp` says. */
export const MAX_CACHE_TTL = 3_600_000;
const MAX_TIMEOUT = 2_147_483_647;
const REJECTED_ENTRIES = 1_000;

function fail(message: string): never {
  throw new TypeError(`jwtAuth: ${message}`);
}

const isStrings = (value: unknown): boolean =>
  typeof value === 'string' || (Array.isArray(value) && value.every((x) => typeof x === 'string'));

const isCache = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  ['get', 'set', 'delete'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

/** A number of `unit` from `min` to `max`, or the default. */
function bounded(value: unknown, name: string, fallback: number, min: number, max: number, unit: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min && value <= max))
    fail(`${name} must be a number of ${unit} from ${min} to ${max}`);
  return value;
}

function checkShapes(options: JwtAuthOptions): void {
  if ((options.jwks === undefined) === (options.key === undefined)) fail('give exactly one of jwks or key');
  if (options.issuer !== undefined && !isStrings(options.issuer)) fail('issuer must be a string or strings');
  if (options.audience !== undefined && !isStrings(options.audience)) fail('audience must be a string or strings');
  if (options.algorithms !== undefined && !(Array.isArray(options.algorithms) && isStrings(options.algorithms)))
    fail('algorithms must be an array of strings');
  const claims: unknown = options.claims ?? {};
  if (typeof claims !== 'object' || claims === null || !Object.values(claims).every((v) => typeof v === 'string'))
    fail('claims must map claim roles to claim names (strings)');
  if (options.requireExp !== undefined && typeof options.requireExp !== 'boolean') fail('requireExp must be a boolean');
  if (options.cache !== undefined && !isCache(options.cache)) fail('cache must be a TtlCache (get, set, delete)');
  if (options.rejectedCache !== undefined && !isCache(options.rejectedCache))
    fail('rejectedCache must be a TtlCache (get, set, delete)');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch must be a function');
  if (options.clock !== undefined && typeof options.clock !== 'function') fail('clock must be a function');
}

/**
 * Checks `jwtAuth`'s options (keys excepted: `resolveKeys` checks those) and fills in defaults.
 *
 * @example
 * ```ts
 * const { cache, verifyOptions } = resolveJwtOptions({ key, issuer: 'https://issuer.example' })
 * ```
 */
export function resolveJwtOptions(options: JwtAuthOptions): ResolvedJwtOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  checkShapes(options);
  const clock = options.clock ?? Date.now;
  const cache = options.cache ?? memoryCache<VerifiedToken | null>({ clock });
  const rejectedCache =
    options.rejectedCache ??
    (options.cache === undefined ? memoryCache<VerifiedToken | null>({ max: REJECTED_ENTRIES, clock }) : cache);
  return {
    claimNames: { identity: 'sub', identities: 'identity_set', scope: 'scope', groups: 'groups', ...options.claims },
    cacheTtl: bounded(options.cacheTtl, 'cacheTtl', 300_000, 0, MAX_CACHE_TTL, 'ms'),
    cache,
    rejectedCache,
    clock,
    jwksTimeout: Math.ceil(bounded(options.jwksTimeout, 'jwksTimeout', 5_000, 1, MAX_TIMEOUT, 'ms')),
    healthInterval: bounded(options.healthInterval, 'healthInterval', 30_000, 1_000, MAX_TIMEOUT, 'ms'),
    verifyOptions: {
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
      ...(options.requireExp === false ? {} : { requiredClaims: ['exp'] }),
      clockTolerance: bounded(options.clockTolerance, 'clockTolerance', 30, 0, 86_400, 's'),
    },
  };
}
