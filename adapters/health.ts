/**
 * @module adapters/health: the liveness and readiness routes every adapter can serve beside the
 * provider, outside its prefix (`/livez` and `/readyz` unless told): liveness answers at once
 * without touching anything, readiness answers `provider.health()`, 503 when it fails. Any other
 * path goes to the provider, as without them.
 */
import { ActionError, type HealthReport, isProviderPath, normalisePrefix } from '../src/index.ts';
import type { FetchProvider, HealthOption, HealthRoutes } from './contract.ts';
import { withPrefix } from './prefix.ts';

/** The routes, checked (`healthRoutes`). */
export interface HealthPaths {
  readonly live: string;
  readonly ready: string;
  readonly timeout: number | undefined;
}

type Fetch = (request: Request, env?: unknown, executionContext?: unknown) => Response | Promise<Response>;

const MAX_TIMER = 2_147_483_647;

function healthPath(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new TypeError(`health.${name}: must be a path such as ${fallback}`);
  let path: string;
  try {
    path = normalisePrefix(value);
  } catch {
    throw new TypeError(`health.${name}: a path, without ? or # (got ${JSON.stringify(value)})`);
  }
  if (path === '') throw new TypeError(`health.${name}: must not be / (the introspection document)`);
  return path;
}

/**
 * `option` checked against the provider's `prefix` (`undefined`: the host mounts the provider
 * and the path is not known here), at creation, so a clash is a TypeError before anything
 * listens: a route inside the prefix, or at the root among the provider's own paths.
 */
export function healthRoutes(option: HealthOption | undefined, prefix: string | undefined): HealthPaths | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null))
    throw new TypeError('health: must be true, or { live, ready, timeout }');
  const given: HealthRoutes = option === true ? {} : option;
  const live = healthPath(given.live, 'live', '/livez');
  const ready = healthPath(given.ready, 'ready', '/readyz');
  if (live === ready) throw new TypeError('health: live and ready must be different paths');
  const { timeout } = given;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 1 && timeout <= MAX_TIMER))
    throw new TypeError(`health.timeout: must be a number of ms from 1 to ${MAX_TIMER}`);
  const base = prefix === undefined ? undefined : normalisePrefix(prefix);
  for (const [name, path] of [
    ['live', live],
    ['ready', ready],
  ] as const) {
    if (base === '' ? isProviderPath(path) : base !== undefined && (path === base || path.startsWith(`${base}/`)))
      throw new TypeError(
        `health.${name}: ${path} is a path the provider serves (prefix ${base || '/'}): choose one outside it`,
      );
  }
  return { live, ready, timeout };
}

/**
 * The path of `url` (absolute, or origin-form as node:http gives it) as it came, without its
 * query: no decoding, so `/read%79z` is no health route (on any adapter).
 */
function pathOf(url: string): string {
  const start = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('://') + 3);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  const fragment = url.indexOf('#', start);
  const end = Math.min(query === -1 ? url.length : query, fragment === -1 ? url.length : fragment);
  return url.slice(start, end);
}

/** Whether `url` (a request's, absolute or origin-form) is on one of the routes. */
export function isHealthPath(paths: HealthPaths, url: string): boolean {
  const path = pathOf(url);
  return path === paths.live || path === paths.ready;
}

const HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };
const ALLOW = 'GET, HEAD';

function answer(request: Request, status: number, body: HealthReport | { status: 'pass' | 'fail' }): Response {
  // A HEAD's answer has the GET's status and headers, and no body.
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(body), { status, headers: HEADERS });
}

/**
 * The routes' own answers, for a request on one of their paths: liveness 200 at once; readiness
 * `provider.health()`, 200 for pass or warn, 503 for fail, the report as the body; another
 * method, the JSON 405 with `Allow`.
 */
export function healthAnswer(
  provider: FetchProvider,
  paths: HealthPaths,
): (request: Request) => Response | Promise<Response> {
  const { health } = provider;
  if (typeof health !== 'function')
    throw new TypeError('health: the provider has no health() (a provider from createActionProvider has)');
  const options = paths.timeout === undefined ? {} : { timeout: paths.timeout };
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const description = `${request.method} is not allowed here; use ${ALLOW}`;
      return new ActionError('MethodNotAllowed', description, { headers: { allow: ALLOW } }).getResponse();
    }
    if (pathOf(request.url) === paths.live) return answer(request, 200, { status: 'pass' });
    let report: HealthReport | { status: 'fail' };
    try {
      report = await health.call(provider, options);
    } catch {
      report = { status: 'fail' }; // a provider whose health() threw cannot be ready
    }
    return answer(request, report.status === 'fail' ? 503 : 200, report);
  };
}

/** `fetch` with the routes in front of it (none when `paths` is undefined). */
export function withHealth(provider: FetchProvider, fetch: Fetch, paths: HealthPaths | undefined): Fetch {
  if (paths === undefined) return fetch;
  const healthFetch = healthAnswer(provider, paths);
  return (request, env, executionContext) =>
    isHealthPath(paths, request.url) ? healthFetch(request) : fetch(request, env, executionContext);
}

/**
 * What an adapter serves: the provider under `prefix`, with the health routes outside it.
 *
 * @example
 * ```ts
 * const handler = served(provider, { prefix: '/echo', health: true }) // /echo/..., /livez, /readyz
 * ```
 */
export function served(
  provider: FetchProvider,
  options: { prefix?: string | undefined; health?: HealthOption | undefined },
): Fetch {
  const paths = healthRoutes(options.health, options.prefix ?? '');
  return withHealth(provider, withPrefix(provider, options.prefix), paths);
}
