/**
 * @module operations/release: release a completed action: the `release` callback cleans up,
 * then the action is deleted and its `request_id` freed.
 */
import { callbackContext } from '../context.ts';
import { ActionError } from '../http/errors.ts';
import { isCompleted, toView } from '../lifecycle.ts';
import type { ProviderConfig } from '../options.ts';
import { type ActionInput, authenticate, loadManageable, notFound, type Operation, ok } from './kernel.ts';
import { keptToken } from './tokens.ts';

export function releaseOperation(config: ProviderConfig): Operation<ActionInput> {
  const callback = config.callbacks.release;
  return async (input) => {
    const { actionId } = input;
    const caller = await authenticate(config, input);
    const record = await loadManageable(config, actionId, caller);
    if (!isCompleted(record.status)) {
      throw new ActionError(
        'ActionConflict',
        `Action ${actionId} is ${record.status}; only a completed action can be released`,
      );
    }
    await callback?.(callbackContext(input, caller, { action: toView(record), keptToken: keptToken(config, record) }));
    // A concurrent release got there first: answer as for any id that is gone.
    if (!(await config.store.delete(actionId))) throw notFound(actionId);
    // Completion dropped them already; a record stored otherwise (a custom writer) still holds some.
    const kept = record.offline_tokens;
    if (kept != null) await config.tokens?.discard(actionId, kept, null);
    return ok(input, record);
  };
}
