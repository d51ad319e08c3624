/**
 * @module operations/actions-api: `provider.actions`, to read and change actions from outside a
 * request (a background job, a webhook, an operator), with the same validation and completion
 * rules as the callbacks, and no caller or authorization.
 */
import * as v from 'valibot';
import { toStatus, toView } from '../lifecycle.ts';
import {
  ACTION_STATUSES,
  type ActionStatus,
  type ActionStatusValue,
  type ActionUpdate,
  ActionUpdateSchema,
  type ActionView,
} from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import { formatIssues } from '../validation/issues.ts';
import type { WorkerInternals } from '../work/runner.ts';
import type { WorkInfo } from '../work/types.ts';
import { load, mutate, notFound, reactivating } from './kernel.ts';

/** An action as the operator view shows it: the whole view, and its background work if any. */
export interface OperatorAction extends ActionView {
  /** The work queued or running for it (attempts, lease holder, next run), or null. */
  work: WorkInfo | null;
}

export interface ListOptions {
  /** The statuses to list. Default every status. */
  status?: ActionStatusValue | readonly ActionStatusValue[];
  /** Page size, 1 to 1,000. Default 100. */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

export interface ActionList {
  actions: OperatorAction[];
  /** Present when more actions follow: pass it as `cursor`. */
  cursor?: string;
}

/** Read and change actions from outside a request, with the same validation and completion rules. */
export interface ActionsApi {
  get(actionId: string): Promise<ActionView | undefined>;
  /** Apply an update (status defaults to the current one). Throws ActionNotFound, or TypeError for a malformed update. */
  update(actionId: string, update: Partial<ActionUpdate>): Promise<ActionStatus>;
  /**
   * Every action, whoever owns it, newest first, a page at a time, with its background work:
   * for start-up checks and operators (nothing here is authorized: never expose it to callers).
   */
  list(options?: ListOptions): Promise<ActionList>;
  /** How many (unexpired) actions are in each status. */
  count(): Promise<Record<ActionStatusValue, number>>;
}

const PartialUpdateSchema = v.partial(ActionUpdateSchema);
const MAX_PAGE = 1_000;

function statuses(option: ListOptions['status']): ActionStatusValue[] {
  if (option === undefined) return [...ACTION_STATUSES];
  const list = typeof option === 'string' ? [option] : option;
  if (!Array.isArray(list) || list.some((s) => !ACTION_STATUSES.includes(s))) {
    throw new TypeError(`list: status must be one or more of ${ACTION_STATUSES.join(', ')}`);
  }
  return [...list];
}

export function actionsApi(config: ProviderConfig, worker?: WorkerInternals): ActionsApi {
  const { store } = config;
  // INACTIVE made ACTIVE again (a human answered, say): its work is queued with the change.
  const write = reactivating(config, worker);
  const list: ActionsApi['list'] = async (options = {}) => {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new TypeError(`list: limit must be an integer from 1 to ${MAX_PAGE}`);
    }
    if (options.cursor !== undefined && typeof options.cursor !== 'string') {
      throw new TypeError('list: cursor must be the cursor of a previous page');
    }
    const page = await store.list({
      statuses: statuses(options.status),
      everyone: true,
      limit,
      now: config.clock(),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    });
    const work =
      worker === undefined ? new Map<string, WorkInfo>() : await worker.inspect(page.actions.map((a) => a.action_id));
    const actions = page.actions.map((record) => ({ ...toView(record), work: work.get(record.action_id) ?? null }));
    return page.cursor === undefined ? { actions } : { actions, cursor: page.cursor };
  };
  return {
    async get(actionId) {
      const record = await load(config, actionId);
      return record === undefined ? undefined : toView(record);
    },
    async update(actionId, patch) {
      const parsed = v.safeParse(PartialUpdateSchema, patch);
      if (!parsed.success) throw new TypeError(`update: ${formatIssues(parsed.issues, false)}`);
      const record = await load(config, actionId);
      if (record === undefined) throw notFound(actionId);
      const result = await mutate(
        config,
        record,
        async (current) => ({ ...parsed.output, status: parsed.output.status ?? current.status }),
        write,
      );
      await worker?.changed(result);
      return toStatus(result);
    },
    list,
    async count() {
      const counts: Record<ActionStatusValue, number> = { SUCCEEDED: 0, FAILED: 0, ACTIVE: 0, INACTIVE: 0 };
      const now = config.clock();
      if (store.count !== undefined) return { ...counts, ...(await store.count(now)) };
      for (let cursor: string | undefined; ; ) {
        const page = await store.list({
          statuses: [...ACTION_STATUSES],
          everyone: true,
          limit: MAX_PAGE,
          now,
          ...(cursor === undefined ? {} : { cursor }),
        });
        for (const record of page.actions) counts[record.status]++;
        if (page.cursor === undefined) return counts;
        cursor = page.cursor;
      }
    },
  };
}
