/** @module store/types: the ActionStore interface every storage backend implements. */
import type { ActionRecord, ActionStatusValue } from '../model.ts';

/**
 * The page size a store is asked for is a whole number from 1; a TypeError otherwise (the
 * provider's bug: enumerate checks the caller's `limit` before it gets here).
 */
export function checkListLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('list: limit must be a positive whole number');
}

/** Which actions `list()` returns: those in `statuses` matching any of the given roles. */
export interface ActionQuery {
  statuses: readonly ActionStatusValue[];
  /** Match actions whose creator_id is one of these. */
  creator_id?: readonly string[];
  /** Match actions whose monitor_by shares a principal with these. */
  monitor_by?: readonly string[];
  /** Match actions whose manage_by shares a principal with these. */
  manage_by?: readonly string[];
  /**
   * Match every action, whoever owns it (the operator view, `provider.actions.list`); the
   * principal fields are then ignored. Never set for a caller's request.
   */
  everyone?: boolean;
  /** Page size: at most this many actions. A whole number from 1. */
  limit: number;
  /**
   * From a previous page's `cursor`: the page holds the actions after it in the order. Any
   * string may arrive here (enumerate checks that its markers are its own, but a caller can
   * forge one): a store must answer some page for it, never fail.
   */
  cursor?: string;
  /** Actions with `expires_at <= now` are left out. */
  now: number;
}

export interface ActionPage {
  /** Newest first: by `start_time`, then by `action_id`, both descending. */
  actions: ActionRecord[];
  /** Present when more actions may follow: pass it back as `cursor` for the next page. */
  cursor?: string;
}

/** What `ActionStore.health()` found, once the database answered. */
export interface StoreHealth {
  /** Whether every migration this version needs is applied; absent for a store without a schema (memory). */
  migrations?: boolean;
}

export type CreateResult = { created: true; record: ActionRecord } | { created: false; record: ActionRecord };

/**
 * Storage for actions. Every method is async so network databases fit unchanged.
 * The contract (see test/store-contract.ts) is what an implementation must pass.
 */
export interface ActionStore {
  /**
   * Store `record` unless an action with the same (creator_id, request_id) exists; then
   * return that one instead. Atomic: of concurrent creates with one key, exactly one wins.
   */
  create(record: ActionRecord): Promise<CreateResult>;
  get(actionId: string): Promise<ActionRecord | undefined>;
  /**
   * Replace the stored action with `record` only if the stored version is `record.version - 1`.
   * Returns the stored record, or undefined when it is missing or another writer got there first.
   */
  update(record: ActionRecord): Promise<ActionRecord | undefined>;
  /** Remove an action, freeing its request_id. True when it existed. */
  delete(actionId: string): Promise<boolean>;
  /**
   * Actions for enumerate, newest first, a page at a time (keyset paging: each page starts
   * after the last action of the one before, so actions created or deleted meanwhile never
   * make another action appear twice or go missing). The work per page should be bounded by
   * the page size, not by how many actions match: the stores here read about a page of index
   * entries per (principal, role, status) of the query.
   */
  list(query: ActionQuery): Promise<ActionPage>;
  /**
   * How many unexpired actions are in each status, whoever owns them (the operator view).
   * Optional: without it the provider counts by listing.
   */
  count?(now: number): Promise<Partial<Record<ActionStatusValue, number>>>;
  /** Delete actions with `expires_at <= now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
  /** Release connections or files. */
  close?(): Promise<void>;
  /**
   * A cheap real round trip to the database (`SELECT 1`) and whether its schema is migrated, for
   * `provider.health()`. Rejects when the database cannot be reached. Optional: without it the
   * provider reads an action id that cannot exist.
   */
  health?(): Promise<StoreHealth>;
}
