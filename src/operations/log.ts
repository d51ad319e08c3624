/**
 * @module operations/log: an action's log, a page at a time, from the `log` callback (its
 * presence sets `log_supported`); `pagination_token` is accepted as an alias of `marker`.
 */
import * as v from 'valibot';
import { callbackContext } from '../context.ts';
import { ActionError } from '../http/errors.ts';
import { toView } from '../lifecycle.ts';
import { LogPageSchema } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import { formatIssues } from '../validation/issues.ts';
import { type ActionInput, authenticate, loadVisible, type Operation, reply } from './kernel.ts';
import { markerParam, parseLimit } from './paging.ts';
import { keptToken } from './tokens.ts';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;

export function logOperation(config: ProviderConfig): Operation<ActionInput> {
  const callback = config.callbacks.log;
  return async (input) => {
    const caller = await authenticate(config, input);
    const record = await loadVisible(config, input.actionId, caller);
    if (callback === undefined) throw new ActionError('NotImplemented', 'This provider does not support log');
    const params = new URL(input.request.url).searchParams;
    const limit = parseLimit(params.get('limit'), DEFAULT_LIMIT, MAX_LIMIT);
    const marker = markerParam(params);
    const page = v.safeParse(
      LogPageSchema,
      await callback(
        callbackContext(input, caller, {
          action: toView(record),
          keptToken: keptToken(config, record),
          limit,
          marker,
        }),
      ),
    );
    if (!page.success) throw new Error(`The log callback returned an invalid page: ${formatIssues(page.issues, true)}`);
    const { entries, has_next_page = false, marker: next = null } = page.output;
    return reply(input, { entries, has_next_page, limit, marker: next }, 200);
  };
}
