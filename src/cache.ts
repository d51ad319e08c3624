/**
 * @module cache: the small bounded TTL cache behind token caches, and the token hash that
 * keys it. Instances only: nothing here is shared between providers unless passed in.
 */
import type { Awaitable } from './awaitable.ts';

/** A cache several instances may share; an implementation backed by a shared store fits too. */
export interface TtlCache<V> {
  get(key: string): Awaitable<V | undefined>;
  set(key: string, value: V, ttlMs: number): Awaitable<void>;
  delete(key: string): Awaitable<void>;
}

export interface MemoryCacheOptions {
  /** At most this many entries; the least recently used goes first. Default 10,000. */
  max?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
}

/** An in-memory LRU cache with per-entry TTL. */
export function memoryCache<V>(options: MemoryCacheOptions = {}): TtlCache<V> {
  const max = options.max ?? 10_000;
  if (!Number.isInteger(max) || max < 1) throw new TypeError('max: expected a positive integer');
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, { value: V; expires: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expires <= clock()) {
        entries.delete(key);
        return undefined;
      }
      // Re-insert to mark it most recently used (Map keeps insertion order).
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, ttlMs) {
      if (ttlMs <= 0) return;
      entries.delete(key);
      entries.set(key, { value, expires: clock() + ttlMs });
      if (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
    delete(key) {
      entries.delete(key);
    },
  };
}

const encoder = new TextEncoder();

interface SyncHash {
  createHash(algorithm: 'sha256'): { update(data: string, encoding: 'utf8'): { digest(encoding: 'hex'): string } };
  /** One-shot hashing (Node >= 20.12, Bun, Deno): about twice as fast as a Hash object. */
  hash?(algorithm: 'sha256', data: string, encoding: 'hex'): string;
}
/**
 * node:crypto where the runtime offers it (Node >= 20.16, Bun, Deno): the same SHA-256, computed
 * synchronously. Web Crypto's digest is a thread-pool round trip in Node (~30 us per request).
 */
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as SyncHash | undefined;

/** Hex SHA-256 of a token, computed synchronously where the runtime can (node:crypto), else undefined. */
export function tokenHashSync(token: string): string | undefined {
  if (nodeCrypto === undefined) return undefined;
  return nodeCrypto.hash !== undefined
    ? nodeCrypto.hash('sha256', token, 'hex')
    : nodeCrypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Hex SHA-256 of a token (node:crypto if present, else Web Crypto, so every runtime has it): what token caches key on. */
export async function tokenHash(token: string): Promise<string> {
  const sync = tokenHashSync(token);
  if (sync !== undefined) return sync;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Concurrent calls with the same key share one promise while it is pending: 200 requests
 * carrying one new token cause one introspection.
 */
export function singleFlight<V>(): (key: string, load: () => Promise<V>) => Promise<V> {
  const pending = new Map<string, Promise<V>>();
  return (key, load) => {
    const existing = pending.get(key);
    if (existing !== undefined) return existing;
    const promise = load().finally(() => pending.delete(key));
    pending.set(key, promise);
    return promise;
  };
}
