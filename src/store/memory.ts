/** @module store/memory: `memoryStore()`, the default ActionStore; fast, and lost on restart. */
import type { ActionRecord, ActionStatusValue } from '../model.ts';
import { memoryWorkEngine } from '../work/memory.ts';
import { type EngineFactory, WORK_ENGINE } from '../work/types.ts';
import type { ActionPage, ActionQuery, ActionStore, CreateResult } from './types.ts';

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
      return { created: true, record };
    },
    async get(actionId) {
      return actions.get(actionId);
    },
    async update(record) {
      const current = actions.get(record.action_id);
      if (current === undefined || current.version !== record.version - 1) return undefined;
      actions.set(record.action_id, record);
      return record;
    },
    async delete(actionId) {
      const current = actions.get(actionId);
      if (current === undefined) return false;
      actions.delete(actionId);
      byRequest.delete(requestKey(current));
      return true;
    },
    async list(query) {
      return page(actions.values(), query);
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
      let count = 0;
      for (const record of actions.values()) {
        if (record.expires_at !== null && record.expires_at <= now) {
          actions.delete(record.action_id);
          byRequest.delete(requestKey(record));
          count++;
        }
      }
      return count;
    },
  } satisfies ActionStore & { readonly size: number; readonly [VOLATILE]: true };
  return Object.assign(store, { [WORK_ENGINE]: memoryWorkEngine(store) });
}

/** The page of `records` matching `query`, oldest first. */
function page(records: Iterable<ActionRecord>, query: ActionQuery): ActionPage {
  const statuses = new Set(query.statuses);
  const creators = new Set(query.creator_id);
  const monitors = new Set(query.monitor_by);
  const managers = new Set(query.manage_by);
  const matches: ActionRecord[] = [];
  for (const record of records) {
    if (!statuses.has(record.status)) continue;
    if (record.expires_at !== null && record.expires_at <= query.now) continue;
    if (query.cursor !== undefined && orderKey(record) <= query.cursor) continue;
    if (
      query.everyone === true ||
      creators.has(record.creator_id) ||
      record.monitor_by.some((p) => monitors.has(p)) ||
      record.manage_by.some((p) => managers.has(p))
    ) {
      matches.push(record);
    }
  }
  matches.sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : 1));
  const found = matches.slice(0, query.limit);
  const last = found.at(-1);
  return matches.length > query.limit && last !== undefined
    ? { actions: found, cursor: orderKey(last) }
    : { actions: found };
}

/** Oldest first; the action id breaks ties. */
function orderKey(record: ActionRecord): string {
  return `${record.start_time} ${record.action_id}`;
}
