/**
 * @module adapters/prefix: serve a provider under a URL prefix. The provider never learns where
 * it is mounted: `/prefix` and `/prefix/` both reach its introspection route, and any method
 * gets the answer it would get without the prefix.
 */
import { ActionError } from '../src/index.ts';
import { badRequest } from './answers.ts';

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
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      // A Host header that makes no URL: Deno passes it on as it is, Bun as a bare path.
      return badRequest('Invalid Host header');
    }
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
      return new ActionError('ActionNotFound', 'No such route').getResponse();
    }
    url.pathname = url.pathname.slice(base.length) || '/';
    return fetch(moved(request, url), ...rest);
  }) as F;
}

/** Methods a Request can arrive with but the Request constructor refuses to build. */
const UNBUILDABLE = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * `request` at `url`. CONNECT, TRACE and TRACK become a body-less GET that still reports its own
 * method (as @hono/node-server does for TRACE), so the provider answers them as it does without
 * a prefix (405 with its Allow list, or 404) instead of the constructor's TypeError becoming a 500.
 */
function moved(request: Request, url: URL): Request {
  if (!UNBUILDABLE.has(request.method.toUpperCase())) return new Request(url, request);
  // No body and no signal: the provider answers these at once, whatever the path.
  const standIn = new Request(url, { headers: request.headers });
  Object.defineProperty(standIn, 'method', { value: request.method });
  return standIn;
}
