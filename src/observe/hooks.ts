/**
 * @module observe/hooks: the `hooks` option: functions called for every request the provider
 * answers (404s, preflights and introspection included), on every runtime, with what is known
 * of it; each may add response headers. Checked once, at the provider's creation.
 */
import type { Awaitable } from '../awaitable.ts';

/** What every hook receives about the request. */
export interface RequestInfo {
  readonly request: Request;
  /** The request's id, answered in `X-Request-Id` and present in every log line of the request. */
  readonly requestId: string;
  /** The route's pattern (`/actions/:id`, under a prefix with it), or undefined when no route matched. */
  readonly route: string | undefined;
  /** `introspect`, `run`, `enumerate`, `status`, `cancel`, `release`, `resume`, `log`, `preflight`, or undefined for no route. */
  readonly operation: string | undefined;
  /** The action's id, when known: from the path, or (in `onResponse` after a run) the new action's. */
  readonly actionId: string | undefined;
}

/** What `onResponse` and `onError` also receive. */
export interface ResponseInfo extends RequestInfo {
  readonly status: number;
  /** Milliseconds from the request's arrival at the provider to its answer (the body not yet sent). */
  readonly durationMs: number;
  /** The caller's identity URN, once authenticated. */
  readonly identity: string | undefined;
  /** For an error answer: its stable code (`ActionNotFound`, `UnauthorizedRequest`, ...). */
  readonly code: string | undefined;
}

/** What `onError` also receives: what was thrown. */
export interface ErrorInfo extends ResponseInfo {
  readonly error: unknown;
}

/** What a hook may return: headers to add to the response (plain data, like every callback's answer). */
export interface HookResult {
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Functions called around every request. A hook that throws: from `onRequest`, an ActionError
 * is the answer (refuse a request: rate limits, maintenance) and anything else a logged 500;
 * from `onResponse` or `onError`, it is logged and the response goes out as it was.
 *
 * @example
 * ```ts
 * hooks: {
 *   onResponse: ({ operation, status, durationMs }) => { metrics.observe(operation, status, durationMs) },
 *   onRequest: ({ request }) => ({ headers: { 'x-served-by': 'node-a' } }),
 * }
 * ```
 */
// A hook that returns nothing is the common case: `void` in its return type lets it.
// biome-ignore-start lint/suspicious/noConfusingVoidType: see above
export interface RequestHooks {
  /** Before the operation runs (after routing). */
  onRequest?(info: RequestInfo): Awaitable<HookResult | undefined | void>;
  /** For an answer that came from an error (any status: a 404 as a 503), before `onResponse`. */
  onError?(info: ErrorInfo): Awaitable<HookResult | undefined | void>;
  /** For every answer, once it is made. */
  onResponse?(info: ResponseInfo): Awaitable<HookResult | undefined | void>;
}
// biome-ignore-end lint/suspicious/noConfusingVoidType: see above

const HOOKS = ['onRequest', 'onError', 'onResponse'] as const;
/** RFC 9110 token characters; a value without CR, LF or NUL (what Headers refuses). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

/** The `hooks` option, checked: an object of functions with known names. */
export function resolveHooks(hooks: RequestHooks | undefined): RequestHooks | undefined {
  if (hooks === undefined) return undefined;
  if (typeof hooks !== 'object' || hooks === null) throw new TypeError('hooks: must be an object');
  for (const key of Object.keys(hooks)) {
    if (!(HOOKS as readonly string[]).includes(key)) {
      throw new TypeError(`hooks: unknown hook ${JSON.stringify(key)} (expected ${HOOKS.join(', ')})`);
    }
    if (typeof hooks[key as (typeof HOOKS)[number]] !== 'function')
      throw new TypeError(`hooks.${key}: must be a function`);
  }
  return Object.keys(hooks).length === 0 ? undefined : hooks;
}

/** A hook's headers, checked: a bad one is the hook's bug (logged), never a broken response. */
export function hookHeaders(result: unknown): Readonly<Record<string, string>> | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result !== 'object') throw new TypeError('a hook must return undefined or { headers }');
  const headers = (result as HookResult).headers;
  if (headers === undefined) return undefined;
  if (typeof headers !== 'object' || headers === null)
    throw new TypeError("a hook's headers must be an object of strings");
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new TypeError("a hook's headers must be an object of strings");
    if (!HEADER_NAME.test(name))
      throw new TypeError(`a hook's header name ${JSON.stringify(name)} is not a valid header name`);
    if (!HEADER_VALUE.test(value)) throw new TypeError(`a hook's header ${name} has a value no header may carry`);
  }
  return headers;
}
