/**
 * @module observe/instrumented-store: the store as the operations see it when the provider has
 * telemetry: each call a span (and a duration) under the request's. Without telemetry the store
 * is used as it is, and pays nothing.
 */
import type { ActionStore } from '../store/types.ts';
import type { Telemetry } from './telemetry.ts';

const CALLS = ['create', 'get', 'update', 'delete', 'list', 'count', 'deleteExpired'] as const;

/**
 * `store` with its calls reported. A Proxy rather than a copy: whatever else the store carries
 * (its work engine, its volatility, methods of a store of one's own) reads through unchanged.
 */
export function instrumentedStore(store: ActionStore, telemetry: Telemetry): ActionStore {
  const wrapped = new Map<PropertyKey, unknown>();
  for (const name of CALLS) {
    const method = store[name] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (typeof method !== 'function') continue;
    wrapped.set(name, (...args: unknown[]) => telemetry.call('store', name, () => method.apply(store, args)));
  }
  return new Proxy(store, {
    get: (target, key) => {
      if (wrapped.has(key)) return wrapped.get(key);
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      // Called on the store itself: a class's private fields are not the proxy's.
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      wrapped.set(key, bound);
      return bound;
    },
  });
}
