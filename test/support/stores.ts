/**
 * @module test/support/stores: records as the provider would store them, a fresh store per
 * test, and memory stores wrapped to make races happen on purpose.
 */
import {
  type ActionRecord,
  type ActionStore,
  type JsonObject,
  memoryStore,
  type StoredRequest,
} from '../../src/index.ts';
import { gate } from './async.ts';

/** A test body run with a fresh store from `open`, closed afterwards whatever happens. */
export const withStoreFrom =
  (open: () => Promise<ActionStore>) => (fn: (store: ActionStore) => Promise<void>) => async (): Promise<void> => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close?.();
    }
  };

/** An identity URN and a group URN numbered `n` (the store tests need many). */
export const who = (n: number) => `urn:globus:auth:identity:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const group = (n: number) => `urn:globus:groups:id:00000000-0000-4000-9000-${String(n).padStart(12, '0')}`;

/** The request as the provider stores it when the caller sent only `request_id` and `body`. */
export function storedRequest(requestId: string, body: JsonObject): StoredRequest {
  const none = { label: null, monitor_by: null, manage_by: null, allowed_clients: null, deadline: null };
  return { request_id: requestId, body, ...none, release_after: null };
}

let clock = Date.UTC(2026, 0, 1);
/** A record as the provider would create it; start times increase so ordering is testable. */
export function record(overrides: Partial<ActionRecord> = {}): ActionRecord {
  clock += 1000;
  const creator = overrides.creator_id ?? who(1);
  const requestId = overrides.request_id ?? crypto.randomUUID();
  return {
    action_id: crypto.randomUUID(),
    creator_id: creator,
    request_id: requestId,
    request: storedRequest(requestId, { n: 1 }),
    status: 'ACTIVE',
    label: null,
    monitor_by: [creator],
    manage_by: [creator],
    start_time: new Date(clock).toISOString().replace('Z', '+00:00'),
    completion_time: null,
    release_after: 'P30D',
    display_status: 'ACTIVE',
    details: {},
    state: null,
    expires_at: null,
    version: 1,
    ...overrides,
  };
}

/** `base` with some of its methods replaced. */
export const wrap = (base: ActionStore, overrides: Partial<ActionStore>): ActionStore => ({
  create: (r) => base.create(r),
  get: (id) => base.get(id),
  update: (r) => base.update(r),
  delete: (id) => base.delete(id),
  list: (query) => base.list(query),
  deleteExpired: (now) => base.deleteExpired(now),
  ...overrides,
});

/** A memory store whose `update` waits `ms` first, so concurrent writers overlap. */
export function slowUpdateStore(ms: number): ActionStore {
  const inner = memoryStore();
  return wrap(inner, {
    update: async (r) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return inner.update(r);
    },
  });
}

/** A memory store whose `allArrived` resolves once `create()` has been called `count` times. */
export function countingStore(count: number): { store: ActionStore; creates: () => number; allArrived: Promise<void> } {
  const inner = memoryStore();
  const arrived = gate();
  let creates = 0;
  const store = wrap(inner, {
    create: (r) => {
      if (++creates === count) arrived.open();
      return inner.create(r);
    },
  });
  return { store, creates: () => creates, allArrived: arrived.promise };
}
