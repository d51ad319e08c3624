/**
 * @module auth/cached: the token hash → cache → single-flight path both `globusAuth` and
 * `jwtAuth` take, written once; the one place that tells a synchronous answer from a promise.
 */
import type { Awaitable } from '../awaitable.ts';
import { singleFlight, type TtlCache, tokenHash, tokenHashSync } from '../cache.ts';
import type { Caller } from './types.ts';

/** What a token resolves to, and how long to keep it (ms). */
export interface Resolved<V> {
  value: V;
  ttl: number;
}

export interface CachedAuthenticationOptions<V> {
  /** Keyed by the token's SHA-256; holds what the token resolved to, never the token. */
  cache: TtlCache<V>;
  /** Resolves a token the cache does not know (introspection, verification). */
  resolve(token: string): Promise<Resolved<V>>;
  /** Builds the Caller from a resolved value, or throws to refuse the token; `key` is the token's hash. */
  toCaller(value: V, token: string, key: string): Caller;
}

/**
 * Turns a token into a Caller through the cache: a token resolved recently is answered without
 * any promise where the runtime hashes synchronously and the cache answers synchronously (this
 * is every authenticated request's path: measured to matter); concurrent misses for one token
 * share one `resolve`.
 *
 * @example
 * ```ts
 * const authenticate = cachedAuthentication({ cache, resolve: async (token) => ({ value: await check(token), ttl: 30_000 }), toCaller })
 * return { authenticate: ({ token }) => authenticate(token) }
 * ```
 */
export function cachedAuthentication<V>(options: CachedAuthenticationOptions<V>): (token: string) => Awaitable<Caller> {
  const { cache, resolve, toCaller } = options;
  const once = singleFlight<V>();

  const load = (token: string, key: string): Promise<V> =>
    once(key, async () => {
      const { value, ttl } = await resolve(token);
      await cache.set(key, value, ttl);
      return value;
    });

  // `undefined` is a miss; anything else (null included) is a cached answer.
  async function lookup(token: string, key: string, cached: Awaitable<V | undefined>): Promise<Caller> {
    const hit = await cached;
    return toCaller(hit === undefined ? await load(token, key) : hit, token, key);
  }

  return (token) => {
    const key = tokenHashSync(token);
    if (key === undefined) return tokenHash(token).then((hashed) => lookup(token, hashed, cache.get(hashed)));
    const cached = cache.get(key);
    if (cached !== undefined && !(cached instanceof Promise)) return toCaller(cached, token, key);
    return lookup(token, key, cached);
  };
}
