/** @module store/memory: `memoryStore()`, the default ActionStore; fast, and lost on restart. */
import type { ActionRecord, ActionStatusValue } from '../model.ts';
import { memoryWorkEngine } from '../work/memory.ts';
import { type EngineFactory, WORK_ENGINE } from '../work/types.ts';
import { storeUnavailable } from './failures.ts';
import { memoryCodec } from './memory-codec.ts';
import { orderedIndex } from './ordered-index.ts';
import { type ActionPage, type ActionQuery, type ActionStore, type CreateResult, checkListLimit } from './types.ts';

/** Marks the stores that lose their actions on restart, so the provider can warn once. */
export const VOLATILE = Symbol.for('globus-action-provider.volatile');

export interface MemoryStoreOptions {
  /**
   * The most actions held at once (expired ones count until the sweeper deletes them). A run
   * past it is answered 503 with `Retry-After`, so the process never grows until it is killed
   * (losing every action). Default 1,000,000: about 0.6 GB here (README, "Choosing a store").
   * `Infinity` for no bound.
   */
  maxActions?: number;
}

/** Seconds a run refused by a full memory store is told to wait (about a sweep's interval). */
const FULL_RETRY_AFTER = 60;

/**
 * An in-process store. Every operation completes synchronously inside the returned promise,
 * which makes create-if-absent and the version check atomic in a single-threaded runtime.
 * Each action is held as one string (store/memory-codec.ts), about half the memory of its
 * record's objects; a read decodes a new record.
 *
 * @example
 * ```ts
 * createActionProvider({ ..., store: memoryStore() })
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): ActionStore & {
  readonly size: number;
  readonly [VOLATILE]: true;
  readonly [WORK_ENGINE]: EngineFactory;
} {
  const maxActions = options.maxActions ?? 1_000_000;
  if (!(maxActions === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxActions) && maxActions >= 1))) {
    throw new TypeError('memoryStore: maxActions must be a whole number from 1, or Infinity');
  }
  const codec = memoryCodec();
  const actions = new Map<string, string>(); // action_id → entry
  // (creator_id, request_id) → action_id, by a 32-bit hash of the pair: the key is a small
  // integer, where a key of the two strings would keep both once more per action; a lookup
  // checks the pair of the action it finds. Pairs that collide (about a hundred in a million by
  // chance, or as many as a caller likes: FNV-1a is no secret) share a slot holding an exact
  // map by the pair itself, so colliding costs a caller memory, never a scan.
  const byRequest = new Map<number, string | Map<string, string>>();
  const pairOf = (id: string): string | undefined => {
    const entry = actions.get(id);
    if (entry === undefined) return undefined;
    const record = codec.decode(entry);
    return pairKey(record.creator_id, record.request_id);
  };
  const requestOf = (creator: string, requestId: string): string | undefined => {
    const slot = byRequest.get(pairHash(creator, requestId));
    if (slot === undefined) return undefined;
    const pair = pairKey(creator, requestId);
    if (typeof slot !== 'string') return slot.get(pair);
    return pairOf(slot) === pair ? slot : undefined;
  };
  const remember = (record: ActionRecord) => {
    const hash = pairHash(record.creator_id, record.request_id);
    const slot = byRequest.get(hash);
    const pair = pairKey(record.creator_id, record.request_id);
    if (slot === undefined) byRequest.set(hash, record.action_id);
    else if (typeof slot !== 'string') slot.set(pair, record.action_id);
    else {
      const other = pairOf(slot);
      byRequest.set(
        hash,
        other === undefined
          ? record.action_id
          : new Map([
              [other, slot],
              [pair, record.action_id],
            ]),
      );
    }
  };
  /** Called while the action's entry is still stored (or no longer names this pair). */
  const forget = (record: ActionRecord) => {
    const hash = pairHash(record.creator_id, record.request_id);
    const slot = byRequest.get(hash);
    if (slot === record.action_id) byRequest.delete(hash);
    else if (slot !== undefined && typeof slot !== 'string') {
      const pair = pairKey(record.creator_id, record.request_id);
      if (slot.get(pair) === record.action_id) slot.delete(pair);
      if (slot.size === 1) byRequest.set(hash, slot.values().next().value as string);
    }
  };
  // Each action's entry in one sorted list per (status, role, principal) it matches, and per
  // status for the operator view: a page merges the caller's lists from the cursor on. Entries
  // begin with the order key, so the lists compare them as they are.
  const index = orderedIndex();

  const store = {
    [VOLATILE]: true as const,
    get size() {
      return actions.size;
    },
    async create(record): Promise<CreateResult> {
      const existingId = requestOf(record.creator_id, record.request_id);
      const existing = existingId === undefined ? undefined : actions.get(existingId);
      if (existing !== undefined) return { created: false, record: codec.decode(existing) };
      if (actions.has(record.action_id)) throw new Error(`duplicate action_id ${record.action_id}`);
      if (actions.size >= maxActions) {
        throw storeUnavailable(new Error(`memoryStore: full (maxActions ${maxActions})`), FULL_RETRY_AFTER);
      }
      const entry = codec.encode(record);
      actions.set(record.action_id, entry);
      remember(record);
      for (const name of listNames(record)) index.add(name, entry);
      return { created: true, record };
    },
    async get(actionId) {
      const entry = actions.get(actionId);
      return entry === undefined ? undefined : codec.decode(entry);
    },
    async update(record) {
      const entry = actions.get(record.action_id);
      if (entry === undefined) return undefined;
      const current = codec.decode(entry);
      if (current.version !== record.version - 1) return undefined;
      const next = codec.encode(record);
      codec.release(entry, current); // after encode: principals kept by both stay in the table
      actions.set(record.action_id, next);
      if (sameLists(current, record)) {
        for (const name of listNames(record)) index.replace(name, entry, next);
      } else {
        for (const name of listNames(current)) index.remove(name, entry);
        for (const name of listNames(record)) index.add(name, next);
      }
      if (current.creator_id !== record.creator_id || current.request_id !== record.request_id) {
        forget(current);
        remember(record);
      }
      return record;
    },
    async delete(actionId) {
      const entry = actions.get(actionId);
      if (entry === undefined) return false;
      const current = codec.decode(entry);
      actions.delete(actionId);
      forget(current);
      for (const name of listNames(current)) index.remove(name, entry);
      codec.release(entry, current);
      return true;
    },
    async list(query) {
      checkListLimit(query.limit);
      const found: string[] = [];
      for (const entry of index.descending(queryNames(query), query.cursor)) {
        // Expired actions wait for the sweeper (deleteExpired), as they do in the SQL stores.
        const { expiresAt } = codec.header(entry);
        if (expiresAt !== null && expiresAt <= query.now) continue;
        if (found.length === query.limit) {
          return { actions: found.map(codec.decode), cursor: codec.orderKey(found.at(-1) as string) };
        }
        found.push(entry);
      }
      return { actions: found.map(codec.decode) } satisfies ActionPage;
    },
    async count(now: number) {
      const counts: Partial<Record<ActionStatusValue, number>> = {};
      for (const entry of actions.values()) {
        const { status, expiresAt } = codec.header(entry);
        if (expiresAt !== null && expiresAt <= now) continue;
        counts[status] = (counts[status] ?? 0) + 1;
      }
      return counts;
    },
    /** Always there, nothing to migrate. */
    async health() {
      return {};
    },
    async deleteExpired(now: number) {
      // The entries leave their lists a list at a time: one pass over each list touched, where
      // a removal per entry would shift a long list once per entry.
      const gone = new Map<string, Set<string>>();
      let count = 0;
      for (const [actionId, entry] of actions) {
        const { expiresAt } = codec.header(entry);
        if (expiresAt === null || expiresAt > now) continue;
        const record = codec.decode(entry);
        actions.delete(actionId);
        forget(record);
        for (const name of listNames(record)) {
          const entries = gone.get(name);
          if (entries === undefined) gone.set(name, new Set([entry]));
          else entries.add(entry);
        }
        codec.release(entry, record);
        count++;
      }
      for (const [name, entries] of gone) {
        if (entries.size === 1) index.remove(name, entries.values().next().value as string);
        else index.removeAll(name, entries);
      }
      return count;
    },
  } satisfies ActionStore & { readonly size: number; readonly [VOLATILE]: true };
  return Object.assign(store, { [WORK_ENGINE]: memoryWorkEngine(store) });
}

/** The pair as one exact key (JSON: no two pairs alike), only for pairs whose hashes collide. */
const pairKey = (creator: string, requestId: string): string => JSON.stringify([creator, requestId]);

/** FNV-1a over the UTF-16 code units of `creator`, a separator and `requestId`, as a signed 32-bit integer. */
export function pairHash(creator: string, requestId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < creator.length; i++) hash = Math.imul(hash ^ creator.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ 0xffff, 0x01000193); // a separator, so ("a", "bc") and ("ab", "c") hash apart
  for (let i = 0; i < requestId.length; i++) hash = Math.imul(hash ^ requestId.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/** The lists an action is in: the status first, so no principal can make two names alike. */
function listNames(record: ActionRecord): string[] {
  const s = record.status;
  return [
    `${s} *`,
    `${s} c ${record.creator_id}`,
    ...record.monitor_by.map((p) => `${s} m ${p}`),
    ...record.manage_by.map((p) => `${s} g ${p}`),
  ];
}

/** The lists a query reads. */
function queryNames(query: ActionQuery): string[] {
  return query.statuses.flatMap((s) =>
    query.everyone === true
      ? [`${s} *`]
      : [
          ...(query.creator_id ?? []).map((p) => `${s} c ${p}`),
          ...(query.monitor_by ?? []).map((p) => `${s} m ${p}`),
          ...(query.manage_by ?? []).map((p) => `${s} g ${p}`),
        ],
  );
}

const sameItems = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether an update leaves the action in the same lists (the usual case: only details change). */
function sameLists(a: ActionRecord, b: ActionRecord): boolean {
  return (
    a.status === b.status &&
    a.start_time === b.start_time &&
    a.creator_id === b.creator_id &&
    sameItems(a.monitor_by, b.monitor_by) &&
    sameItems(a.manage_by, b.manage_by)
  );
}
