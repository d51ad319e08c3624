/** @module operations/introspect: the provider description, to callers in `visible_to` (to anyone when public). */
import { isAllowed, PUBLIC } from '../authorization.ts';
import { ActionError } from '../http/errors.ts';
import type { ProviderConfig } from '../options.ts';
import { authenticate, type Operation, reply } from './kernel.ts';

export function introspectOperation(config: ProviderConfig): Operation {
  const { visible_to } = config.description;
  if (visible_to.includes(PUBLIC)) return async (input) => reply(input, config.descriptionJson, 200);
  return async (input) => {
    const caller = await authenticate(config, input);
    if (!(await isAllowed(visible_to, caller))) throw new ActionError('ActionNotFound', 'No provider here');
    return reply(input, config.descriptionJson, 200);
  };
}
