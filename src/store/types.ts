/** @module store/types: the ActionStore interface every storage backend implements. */
import type { ActionStatus } from '../actions.ts';
import type { ActionStatusValue, JsonObject } from '../model.ts';

/** The original request, as validated (kept for idempotency checks and for `resume`). */
export interface StoredRequest<TBody = JsonObject> {
  request_id: string;
  body: TBody;
  label: string | null;
  monitor_by: string[] | null;
  manage_by: string[] | null;
  allowed_clients: string[] | null;
  deadline: string | null;
  release_after: string | null;
}

/**
 * One action as stored. Records are immutable values: a change is a new record with
 * `version + 1`, written with `update()`.
 */
export interface ActionRecord extends ActionStatus {
  request_id: string;
  request: StoredRequest;
  /** Private to the provider (e.g. a job id to poll); stored, never sent to clients. */
  state: JsonObject | null;
  /** When a completed action is due for deletion (ms since the epoch), else null. */
  expires_at: number | null;
  /** 1 while `run` is still executing (the placeholder); every successful update adds one. */
  version: number;
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
  /** Page size. */
  limit: number;
  /** From a previous page's `cursor`. */
  cursor?: string;
  /** Actions with `expires_at <= now` are left out. */
  now: number;
}

export interface ActionPage {
  actions: ActionRecord[];
  /** Present when more actions may follow. */
  cursor?: string;
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
  /** Actions for enumerate, oldest first, a page at a time. */
  list(query: ActionQuery): Promise<ActionPage>;
  /** Delete actions with `expires_at <= now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
  /** Release connections or files. */
  close?(): Promise<void>;
}
