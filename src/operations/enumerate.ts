/**
 * @module operations/enumerate: `GET /actions`, the caller's actions by status and role, newest
 * first, a page at a time, from the store (or from the `enumerate` callback for actions that
 * live elsewhere). The answer stays the JSON array the Python toolkit's clients read; the next
 * page is in the `X-Next-Marker` and `Link` headers.
 */
import { isAllowed } from '../authorization.ts';
import { callbackContext, type EnumeratePage, type EnumerateRole } from '../context.ts';
import { ActionError } from '../http/errors.ts';
import { toStatus } from '../lifecycle.ts';
import { ACTION_STATUSES, type ActionStatus, isPlainObject } from '../model.ts';
import type { ProviderConfig } from '../options.ts';
import type { ActionQuery } from '../store/types.ts';
import { MAX_CALLBACK_MARKER_LENGTH, type MarkerScope, openMarker, sealMarker } from './enumerate-marker.ts';
import { authenticate, type Operation, reply } from './kernel.ts';
import { markerParam, parseLimit } from './paging.ts';

/**
 * Actions per page when the caller gives no `limit`. As large as the largest page, so that a
 * client that does not page (the Python toolkit's, Globus's own) still gets every action of
 * nearly every caller (most list their few ACTIVE ones), while one page stays milliseconds of
 * work and about half a megabyte of JSON, whatever the caller holds.
 */
export const DEFAULT_ENUMERATE_LIMIT = 1000;
/** The largest page a caller may ask for (`limit`). */
export const MAX_ENUMERATE_LIMIT = 1000;
/** The response header holding the next page's marker (absent on the last page). */
export const NEXT_MARKER_HEADER = 'X-Next-Marker';

const ROLES: readonly EnumerateRole[] = ['creator_id', 'monitor_by', 'manage_by'];

export function enumerateOperation(config: ProviderConfig): Operation {
  const callback = config.callbacks.enumerate;
  return async (input) => {
    const caller = await authenticate(config, input);
    if (!(await isAllowed(config.description.runnable_by, caller))) {
      throw new ActionError('ForbiddenRequest', 'Not allowed to list actions');
    }
    const url = new URL(input.request.url);
    const params = url.searchParams;
    const statuses = parseList(params.get('status'), ACTION_STATUSES, 'ACTIVE', 'status', (s) => s.toUpperCase());
    const roles = parseList(params.get('roles'), ROLES, 'creator_id', 'roles', (s) => s.toLowerCase());
    const limit = parseLimit(params.get('limit'), DEFAULT_ENUMERATE_LIMIT, MAX_ENUMERATE_LIMIT);
    const scope: MarkerScope = { statuses, roles, identity: caller.identity };
    const given = markerParam(params);
    const place = given === null ? undefined : await openMarker(given, scope);
    let actions: ActionStatus[];
    let next: string | undefined;
    if (callback !== undefined) {
      const answer = await callback(callbackContext(input, caller, { statuses, roles, limit, marker: place ?? null }));
      ({ actions, next } = callbackPage(answer));
    } else {
      const principals = roles.some((r) => r !== 'creator_id')
        ? [...caller.identities, ...(await caller.groups())]
        : [];
      const query: ActionQuery = {
        statuses,
        ...(roles.includes('creator_id') ? { creator_id: caller.identities } : {}),
        ...(roles.includes('monitor_by') ? { monitor_by: principals } : {}),
        ...(roles.includes('manage_by') ? { manage_by: principals } : {}),
        limit,
        now: config.clock(),
        ...(place === undefined ? {} : { cursor: place }),
      };
      const page = await config.store.list(query);
      actions = page.actions.map(toStatus);
      next = page.cursor;
    }
    if (next === undefined) return reply(input, actions, 200);
    const marker = await sealMarker(next, scope);
    return reply(input, actions, 200, { [NEXT_MARKER_HEADER]: marker, link: nextLink(url, marker, limit) });
  };
}

/**
 * The `Link` to the next page: the request's own URL (other parameters kept, as the caller
 * sent them) with `marker` and `limit` set, `pagination_token` dropped.
 */
function nextLink(url: URL, marker: string, limit: number): string {
  const next = new URL(url);
  next.searchParams.delete('pagination_token');
  next.searchParams.set('marker', marker);
  next.searchParams.set('limit', String(limit));
  return `<${next.href}>; rel="next"`;
}

/** What the callback answered, as a page; an answer of neither shape is the provider's bug (a logged 500). */
function callbackPage(answer: ActionStatus[] | EnumeratePage): { actions: ActionStatus[]; next: string | undefined } {
  if (Array.isArray(answer)) return { actions: answer, next: undefined };
  if (isPlainObject(answer) && Array.isArray(answer['actions'])) {
    const marker = answer['marker'];
    if (marker === undefined || marker === null) return { actions: answer['actions'], next: undefined };
    if (typeof marker === 'string' && marker !== '' && marker.length <= MAX_CALLBACK_MARKER_LENGTH) {
      return { actions: answer['actions'], next: marker };
    }
  }
  throw new Error(
    'The enumerate callback returned neither an array of actions nor { actions, marker } ' +
      `(marker a non-empty string of at most ${MAX_CALLBACK_MARKER_LENGTH} characters, or null)`,
  );
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
