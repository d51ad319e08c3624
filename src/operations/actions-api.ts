/**
 * @module operations/actions-api: `provider.actions`, to read and change actions from outside a
 * request (a background job, a webhook), with the same validation and completion rules as the
 * callbacks, and no caller or authorization.
 */
import * as v from 'valibot';
import { toStatus, toView } from '../lifecycle.ts';
import { type ActionStatus, type ActionUpdate, ActionUpdateSchema, type ActionView } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import { formatIssues } from '../validation/issues.ts';
import { load, mutate, notFound } from './kernel.ts';

/** Read and change actions from outside a request, with the same validation and completion rules. */
export interface ActionsApi {
  get(actionId: string): Promise<ActionView | undefined>;
  /** Apply an update (status defaults to the current one). Throws ActionNotFound, or TypeError for a malformed update. */
  update(actionId: string, update: Partial<ActionUpdate>): Promise<ActionStatus>;
}

const PartialUpdateSchema = v.partial(ActionUpdateSchema);

export function actionsApi(config: ProviderConfig): ActionsApi {
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
      const result = await mutate(config, record, async (current) => ({
        ...parsed.output,
        status: parsed.output.status ?? current.status,
      }));
      return toStatus(result);
    },
  };
}
