/**
 * @module http/prefix: route a request under a URL prefix on its own path, without building a
 * second `Request`. The prefix is stripped from the path Hono matches (its `getPath`), so the
 * request the operations see is the one the runtime made.
 */
import { getPath } from 'hono/utils/url';

/** `'api/echo/'` → `'/api/echo'`; `''` and `'/'` → `''` (no prefix). */
export function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') throw new TypeError('prefix: must be a string');
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (/[?#]/.test(trimmed)) throw new TypeError(`prefix: a path, without ? or # (got ${JSON.stringify(prefix)})`);
  return trimmed === '' ? '' : `/${trimmed}`;
}

/** What the path of a request outside the prefix becomes: no route matches it (every route starts with `/`). */
export const OUTSIDE_PREFIX = 'outside the prefix';

/**
 * Hono's `getPath` under `base` (normalised, not empty): the path after it, `/` for `base`
 * itself, and a trailing slash dropped as `strict: false` does (Hono ignores a custom
 * `getPath` unless `strict` is on). Outside `base`, OUTSIDE_PREFIX.
 */
export function prefixedPath(base: string): (request: Request) => string {
  return (request) => {
    const full = getPath(request);
    if (!full.startsWith(base)) return OUTSIDE_PREFIX;
    if (full.length === base.length) return '/';
    if (full.charCodeAt(base.length) !== 47 /* '/' */) return OUTSIDE_PREFIX; // '/echoes' is not under '/echo'
    const path = full.slice(base.length);
    return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  };
}
