/** @module store/memory: `memoryStore()`, the default ActionStore; fast, and lost on restart. */
import type { ActionRecord, ActionStatusValue } from '../model.ts';
import { memoryWorkEngine } from '../work/memory.ts';
import { type EngineFactory, WORK_ENGINE } from '../work/types.ts';
import { orderedIndex } from './ordered-index.ts';
import { type ActionPage, type ActionQuery, type ActionStore, type CreateResult, checkListLimit } from './types.ts';

/** Marks the stores that lose their actions on restart, so the provider can warn once. */
export const VOLATILE = Symbol.for('globus-action-provider.volatile');

/**
 * An in-process store. Every operation completes synchronously inside the returned promise,
 * which makes create-if-absent and the version check atomic in a single-threaded runtime.
 *
 * @example
 * ```ts
 * createActionProvider({ ..., store: memoryStore() })
 * ```
 */
export function memoryStore(): ActionStore & {
  readonly size: number;
  readonly [VOLATILE]: true;
  readonly [WORK_ENGINE]: EngineFactory;
} {
  const actions = new Map<string, ActionRecord>();
  const byRequest = new Map<string, string>(); // `${creator_id} ${request_id}` → action_id
  const requestKey = (record: ActionRecord): string => `${record.creator_id} ${record.request_id}`;
  // Each action's order key in one sorted list per (status, role, principal) it matches, and
  // per status for the operator view: a page merges the caller's lists from the cursor on.
  const index = orderedIndex();
  const indexed = (record: ActionRecord, change: (name: string, key: string) => void) => {
    const key = orderKey(record);
    for (const name of listNames(record)) change(name, key);
  };

  const store = {
    [VOLATILE]: true as const,
    get size() {
      return actions.size;
    },
    async create(record): Promise<CreateResult> {
      const key = requestKey(record);
      const existingId = byRequest.get(key);
      const existing = existingId === undefined ? undefined : actions.get(existingId);
      if (existing !== undefined) return { created: false, record: existing };
      if (actions.has(record.action_id)) throw new Error(`duplicate action_id ${record.action_id}`);
      actions.set(record.action_id, record);
      byRequest.set(key, record.action_id);
      indexed(record, index.add);
      return { created: true, record };
    },
    async get(actionId) {
      return actions.get(actionId);
    },
    async update(record) {
      const current = actions.get(record.action_id);
      if (current === undefined || current.version !== record.version - 1) return undefined;
      actions.set(record.action_id, record);
      if (!sameLists(current, record)) {
        indexed(current, index.remove);
        indexed(record, index.add);
      }
      return record;
    },
    async delete(actionId) {
      const current = actions.get(actionId);
      if (current === undefined) return false;
      actions.delete(actionId);
      byRequest.delete(requestKey(current));
      indexed(current, index.remove);
      return true;
    },
    async list(query) {
      checkListLimit(query.limit);
      const found: ActionRecord[] = [];
      for (const key of index.descending(queryNames(query), query.cursor)) {
        const record = actions.get(key.slice(key.indexOf(' ') + 1));
        // Expired actions wait for the sweeper (deleteExpired), as they do in the SQL stores.
        if (record === undefined || (record.expires_at !== null && record.expires_at <= query.now)) continue;
        if (found.length === query.limit) return { actions: found, cursor: orderKey(found.at(-1) as ActionRecord) };
        found.push(record);
      }
      return { actions: found } satisfies ActionPage;
    },
    async count(now: number) {
      const counts: Partial<Record<ActionStatusValue, number>> = {};
      for (const record of actions.values()) {
        if (record.expires_at !== null && record.expires_at <= now) continue;
        counts[record.status] = (counts[record.status] ?? 0) + 1;
      }
      return counts;
    },
    /** Always there, nothing to migrate. */
    async health() {
      return {};
    },
    async deleteExpired(now: number) {
      // The keys leave their lists a list at a time: one pass over each list touched, where a
      // removal per key would shift a long list once per key.
      const gone = new Map<string, Set<string>>();
      let count = 0;
      for (const record of actions.values()) {
        if (record.expires_at !== null && record.expires_at <= now) {
          actions.delete(record.action_id);
          byRequest.delete(requestKey(record));
          indexed(record, (name, key) => {
            const keys = gone.get(name);
            if (keys === undefined) gone.set(name, new Set([key]));
            else keys.add(key);
          });
          count++;
        }
      }
      for (const [name, keys] of gone) {
        if (keys.size === 1) index.remove(name, keys.values().next().value as string);
        else index.removeAll(name, keys);
      }
      return count;
    },
  } satisfies ActionStore & { readonly size: number; readonly [VOLATILE]: true };
  return Object.assign(store, { [WORK_ENGINE]: memoryWorkEngine(store) });
}

/**
 * Newest first, the action id breaking ties. Start times are fixed-width ISO text with no space,
 * so comparing keys as strings compares (start_time, action_id) in that order.
 */
function orderKey(record: ActionRecord): string {
  return `${record.start_time} ${record.action_id}`;
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
