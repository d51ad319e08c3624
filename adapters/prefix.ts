/**
 * @module adapters/prefix: serve a provider under a URL prefix. The provider never learns where
 * it is mounted: `/prefix` and `/prefix/` both reach its introspection route.
 */
import { ActionError } from '../src/index.ts';

/** `'api/echo/'` → `'/api/echo'`; `''` and `'/'` → `''` (no prefix). */
export function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string') throw new TypeError('prefix: must be a string');
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

/** A handler that strips `prefix` before calling `fetch`, and answers the JSON 404 outside it. */
export function withPrefix<F extends (request: Request, ...rest: never[]) => Response | Promise<Response>>(
  fetch: F,
  prefix: string | undefined,
): F {
  const base = normalisePrefix(prefix);
  if (base === '') return fetch;
  return ((request: Request, ...rest: never[]) => {
    const url = new URL(request.url);
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
      return new ActionError('ActionNotFound', 'No such route').getResponse();
    }
    url.pathname = url.pathname.slice(base.length) || '/';
    return fetch(new Request(url, request), ...rest);
  }) as F;
}
