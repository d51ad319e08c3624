/**
 * @module operations/enumerate: `GET /actions`, the caller's actions by status and role, from
 * the store (or from the `enumerate` callback for actions that live elsewhere).
 */
import { isAllowed } from '../authorization.ts';
import { callbackContext, type EnumerateRole } from '../context.ts';
import { ActionError } from '../http/errors.ts';
import { toStatus } from '../lifecycle.ts';
import { ACTION_STATUSES, type ActionStatus } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import type { ActionQuery } from '../store/types.ts';
import { authenticate, type Operation, reply } from './kernel.ts';

const ROLES: readonly EnumerateRole[] = ['creator_id', 'monitor_by', 'manage_by'];
/** Actions read from the store per page. */
const PAGE_SIZE = 1000;

export function enumerateOperation(config: ProviderConfig): Operation {
  const callback = config.callbacks.enumerate;
  return async (input) => {
    const caller = await authenticate(config, input);
    if (!(await isAllowed(config.description.runnable_by, caller))) {
      throw new ActionError('ForbiddenRequest', 'Not allowed to list actions');
    }
    const params = new URL(input.request.url).searchParams;
    const statuses = parseList(params.get('status'), ACTION_STATUSES, 'ACTIVE', 'status', (s) => s.toUpperCase());
    const roles = parseList(params.get('roles'), ROLES, 'creator_id', 'roles', (s) => s.toLowerCase());
    if (callback !== undefined) {
      return reply(input, await callback(callbackContext(input, caller, { statuses, roles })), 200);
    }
    const principals = roles.some((r) => r !== 'creator_id') ? [...caller.identities, ...(await caller.groups())] : [];
    const query: ActionQuery = {
      statuses,
      ...(roles.includes('creator_id') ? { creator_id: caller.identities } : {}),
      ...(roles.includes('monitor_by') ? { monitor_by: principals } : {}),
      ...(roles.includes('manage_by') ? { manage_by: principals } : {}),
      limit: PAGE_SIZE,
      now: config.clock(),
    };
    const found: ActionStatus[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await config.store.list(cursor === undefined ? query : { ...query, cursor });
      for (const record of page.actions) found.push(toStatus(record));
      if (page.cursor === undefined) break;
      cursor = page.cursor;
    }
    return reply(input, found, 200);
  };
}

/** A comma-separated query parameter as a set of allowed values; 422 naming any unknown one. */
function parseList<T extends string>(
  raw: string | null,
  allowed: readonly T[],
  fallback: T,
  name: string,
  normalise: (s: string) => string,
): T[] {
  if (raw === null || raw.trim() === '') return [fallback];
  const given = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const values = given.map(normalise);
  const bad = given.filter((_s, i) => !(allowed as readonly string[]).includes(values[i] as string));
  if (bad.length > 0) {
    const unknown = bad.map((b) => JSON.stringify(b)).join(', ');
    throw new ActionError(
      'RequestValidationError',
      `Field '${name}' (category: 'value'): unknown value ${unknown}; expected ${allowed.join(', ')}`,
    );
  }
  return [...new Set(values)] as T[];
}
