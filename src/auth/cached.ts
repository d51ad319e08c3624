/**
 * @module auth/cached: the token hash → cache → single-flight path both `globusAuth` and
 * `jwtAuth` take, written once.
 */
import { singleFlight, type TtlCache, tokenHash, tokenHashSync } from '../cache.ts';
import type { Caller } from './types.ts';

/** What a token resolves to, and how long to keep it (ms; 0 or less: answer, but do not keep). */
export interface Resolved<V> {
  value: V;
  ttl: number;
  /** Why a refused token was refused (jose's verdict, say): passed to `toCaller` of the request that resolved it, for its log line. */
  cause?: unknown;
}

/** Where refused answers are kept: apart from accepted ones, so that bogus tokens cannot evict callers. */
export interface RejectedCache<V> {
  cache: TtlCache<V>;
  /** True for an answer that refuses the token (inactive, unverifiable). */
  is(value: V): boolean;
}

/** `C` is what one request carries through (a time budget, say); `void` when nothing. */
export interface CachedAuthenticationOptions<V, C = void> {
  /** Keyed by the token's SHA-256; holds what the token resolved to, never the token. */
  cache: TtlCache<V>;
  /** Refused answers go here instead of `cache`; without it, into `cache` too. */
  rejected?: RejectedCache<V>;
  /** Resolves a token the cache does not know (introspection, verification). */
  resolve(token: string, context: C): Promise<Resolved<V>>;
  /**
   * How one request waits for a resolution, which may be another request's (single flight):
   * within its own time budget, say. Default: as long as it takes.
   */
  wait?(pending: Promise<V>, context: C): Promise<V>;
  /**
   * Builds the Caller from a resolved value, or throws to refuse the token; `key` is the token's
   * hash, `cause` the resolution's, when this request resolved it (not for a cached answer).
   */
  toCaller(value: V, token: string, key: string, context: C, cause?: unknown): Caller;
  /** Told of each lookup in the cache of accepted tokens: a hit or a miss (telemetry). */
  looked?(hit: boolean): void;
}

/**
 * Turns a token into a Caller through the cache; concurrent misses for one token share one
 * `resolve`. Uniformly async: answering a warm token without a promise was measured to save
 * nothing (callgrind, instructions per authenticated status request).
 *
 * @example
 * ```ts
 * const authenticate = cachedAuthentication({ cache, resolve: async (token) => ({ value: await check(token), ttl: 30_000 }), toCaller })
 * return { authenticate: ({ token }) => authenticate(token) }
 * ```
 */
export function cachedAuthentication<V, C = void>(
  options: CachedAuthenticationOptions<V, C>,
): (token: string, context: C) => Promise<Caller> {
  const { cache, rejected, resolve, wait, toCaller, looked } = options;
  const once = singleFlight<V>();

  const keep = async (key: string, { value, ttl }: Resolved<V>): Promise<void> => {
    if (ttl <= 0) return;
    await (rejected?.is(value) ? rejected.cache : cache).set(key, value, ttl);
  };

  const load = (token: string, key: string, context: C, caused: (cause: unknown) => void): Promise<V> => {
    const pending = once(key, async () => {
      const resolved = await resolve(token, context);
      if (resolved.cause !== undefined) caused(resolved.cause);
      await keep(key, resolved);
      return resolved.value;
    });
    return wait === undefined ? pending : wait(pending, context);
  };

  return async (token, context) => {
    const key = tokenHashSync(token) ?? (await tokenHash(token));
    // `undefined` is a miss; anything else (null included) is a cached answer. Accepted tokens
    // are looked up first: they are the warm path.
    let hit = await cache.get(key);
    if (hit === undefined && rejected !== undefined) hit = await rejected.cache.get(key);
    looked?.(hit !== undefined);
    if (hit !== undefined) return toCaller(hit, token, key, context);
    let cause: unknown;
    const value = await load(token, key, context, (given) => {
      cause = given;
    });
    return toCaller(value, token, key, context, cause);
  };
}
