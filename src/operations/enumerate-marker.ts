/**
 * @module operations/enumerate-marker: enumerate's `marker`, the place where the next page
 * starts (the store's cursor, or the `enumerate` callback's own marker), bound to the listing it
 * belongs to (statuses, roles, caller), so that a marker of another listing, a garbled one or
 * one that is not ours is refused with a 422 before any store sees it.
 */
import { ActionError } from '../http/errors.ts';
import { fromBase64, toBase64url } from '../tokens/base64url.ts';

/** The listing a marker belongs to. */
export interface MarkerScope {
  statuses: readonly string[];
  roles: readonly string[];
  /** The caller's effective identity. */
  identity: string;
}

/** The longest marker an `enumerate` callback may return, in characters. */
export const MAX_CALLBACK_MARKER_LENGTH = 2048;
/**
 * The longest marker read, past which it is refused unread: room for a callback's longest
 * (2,048 characters of up to 3 UTF-8 bytes, as base64url, and the check) and far above a
 * store's cursor (a start time and an action id).
 */
export const MAX_MARKER_LENGTH = 8448;

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });
const SHAPE = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/;

/**
 * The check: 16 bytes of SHA-256 over the listing and the place. Unkeyed on purpose: a marker
 * only says where to start within the caller's own listing (who may see what comes from the
 * token at every request), so a forged one shows nothing a caller could not list anyway; the
 * check is what tells a marker of another listing, a truncated or edited one, from ours, and
 * needs no secret shared by every instance that may serve the next page.
 */
async function check(place: string, scope: MarkerScope): Promise<string> {
  const text = ['gap-enumerate-1', [...scope.statuses].sort(), [...scope.roles].sort(), scope.identity, place];
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(JSON.stringify(text)));
  return toBase64url(new Uint8Array(digest).slice(0, 16));
}

/** The marker of `place` in the listing `scope`. */
export async function sealMarker(place: string, scope: MarkerScope): Promise<string> {
  return `${toBase64url(encoder.encode(place))}.${await check(place, scope)}`;
}

const refused = () =>
  new ActionError(
    'RequestValidationError',
    "Field 'marker' (category: 'value'): not the marker of a page of this listing: pass the X-Next-Marker " +
      '(or follow the Link) of the previous page, with the same status and roles, as the same caller',
  );

/** The place `marker` holds, if it is one of ours for `scope`; else the 422 that says so. */
export async function openMarker(marker: string, scope: MarkerScope): Promise<string> {
  if (marker.length > MAX_MARKER_LENGTH || !SHAPE.test(marker)) throw refused();
  const [encoded = '', given] = marker.split('.');
  const bytes = fromBase64(encoded);
  if (bytes === undefined) throw refused();
  let place: string;
  try {
    place = strict.decode(bytes);
  } catch {
    throw refused(); // not UTF-8: no marker of ours
  }
  if ((await check(place, scope)) !== given) throw refused();
  return place;
}
