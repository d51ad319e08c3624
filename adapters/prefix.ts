/**
 * @module adapters/prefix: serve a provider under a URL prefix. The provider never learns where
 * it is mounted: `/prefix` and `/prefix/` both reach its introspection route, and any method
 * gets the answer it would get without the prefix.
 */
import { ActionError, normalisePrefix } from '../src/index.ts';
import { badRequest } from './answers.ts';
import type { FetchProvider } from './contract.ts';

export { normalisePrefix };

type Fetch = (request: Request, env?: unknown, executionContext?: unknown) => Response | Promise<Response>;

/**
 * The provider's handler under `prefix`: its own `at(prefix)`, which routes on the request's path
 * as it is, or, for any other handler (a Hono app, a provider whose fetch was wrapped), a
 * wrapper that strips the prefix into a copy of the request and answers the JSON 404 outside it.
 */
export function withPrefix(provider: FetchProvider, prefix: string | undefined): Fetch {
  const base = normalisePrefix(prefix);
  const fetch: Fetch = (request, env, executionContext) => provider.fetch(request, env, executionContext);
  if (base === '') return fetch;
  // at() routes to the provider's own fetch: not for a copy whose fetch wraps it.
  const { at } = provider;
  if (at !== undefined && (at as { fetch?: unknown }).fetch === provider.fetch) return at(base);
  return stripping(fetch, base);
}

function stripping(fetch: Fetch, base: string): Fetch {
  return (request, env, executionContext) => {
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
    return fetch(moved(request, url), env, executionContext);
  };
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
