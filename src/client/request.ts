/**
 * @module client/request: the one implementation of an Action Provider's routes and URLs on the
 * client side: which method and path each operation takes in either route family, and the
 * request that sends it. It answers the reply as received (status, headers, text, parsed JSON);
 * what a reply means is for the caller (the typed client, or the testing kit's raw one).
 */
import { readCapped } from '../http/read-capped.ts';

/** The route family: `legacy` (`/run`, `/{id}/status`, ...: what Globus Flows calls) or `actions` (`/actions`, `/actions/{id}`, ...). */
export type RouteFamily = 'legacy' | 'actions';

/** A fetch the client calls with a `Request`: the global one, or `provider.fetch` to call a provider in process. */
export type FetchLike = (request: Request) => Response | Promise<Response>;

/** A reply as it came: the status, the headers, the text and, when the text is JSON, its value. */
// biome-ignore lint/suspicious/noExplicitAny: a test reads the JSON it asserts on without declaring its shape first.
export interface RawReply<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON body; undefined when the body is empty or not JSON. */
  body: T;
  /** The body as received, before parsing: for checks on the exact bytes (what must never be sent, byte-identical answers). */
  text: string;
}

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | undefined>;

/** One request to send: the method, the path after the base URL (with its query), and the JSON body if any. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

/**
 * Whether `actionId` can be one path segment: `.` and `..` (and `%2e` spellings, which
 * encodeURIComponent leaves as they are) are dot segments that URL resolution removes, so
 * `/actions/..` would be sent as `DELETE /`, and `/../status` above the provider's prefix.
 */
export const isAddressable = (actionId: unknown): actionId is string =>
  typeof actionId === 'string' && actionId !== '' && !/^(\.|%2e){1,2}$/i.test(actionId);

/** As given: the testing kit sends what a test asks for; the typed client refuses what `isAddressable` does not pass. */
const id = (actionId: string) => encodeURIComponent(actionId);

function search(params: Query): string {
  const found = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) found.set(key, String(value));
  const text = found.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Every operation's route in each family. Enumeration is `GET /actions` in both (the legacy
 * family has none of its own); release is `DELETE /actions/{id}` in the newer one.
 */
export function routes(family: RouteFamily) {
  const modern = family === 'actions';
  const action = (a: string, tail: string) => (modern ? `/actions/${id(a)}${tail}` : `/${id(a)}${tail}`);
  return {
    introspect: (): Route => ({ method: 'GET', path: '/' }),
    run: (body: unknown): Route => ({ method: 'POST', path: modern ? '/actions' : '/run', body }),
    status: (a: string): Route => ({ method: 'GET', path: modern ? `/actions/${id(a)}` : `/${id(a)}/status` }),
    cancel: (a: string): Route => ({ method: 'POST', path: action(a, '/cancel') }),
    release: (a: string): Route =>
      modern ? { method: 'DELETE', path: `/actions/${id(a)}` } : { method: 'POST', path: `/${id(a)}/release` },
    resume: (a: string): Route => ({ method: 'POST', path: action(a, '/resume') }),
    log: (a: string, query: Query = {}): Route => ({ method: 'GET', path: `${action(a, '/log')}${search(query)}` }),
    list: (query: Query = {}): Route => ({ method: 'GET', path: `/actions${search(query)}` }),
  };
}

/** What `send` needs: where, as whom, through which fetch. */
export interface SenderOptions {
  /** Bearer token sent with every call (as given: the typed client checks it, the testing kit sends what a test asks for). */
  token?: string | undefined;
  fetch?: FetchLike | undefined;
  /** Read at most this many bytes of a body, then reject with `BodyTooLargeError` (default: no limit). */
  maxBodyBytes?: number | undefined;
}

/** The answer's body was longer than `maxBodyBytes`: it was not read to its end. */
export class BodyTooLargeError extends Error {
  override readonly name: string = 'BodyTooLargeError';
}

/** The body as text, rejecting once it passes `limit` bytes: an endless or huge body cannot fill memory. */
async function readText(response: Response, limit: number | undefined): Promise<string> {
  if (limit === undefined) return response.text();
  const { text, cut } = await readCapped(response, limit);
  if (cut) throw new BodyTooLargeError(`the answer's body is longer than ${limit} bytes`);
  return text;
}

/**
 * `work`, or the signal's reason as soon as it aborts. fetch is told of the signal too, but it
 * may not hear it: Node's fetch follows a signal through a Request it holds only weakly, so
 * after a garbage collection (a large body read, say) an abort can be lost and the request
 * wait forever.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Sends routes to one base URL; a failed fetch (refused connection, abort) rejects as fetch rejects. */
export type Sender = (route: Route, signal?: AbortSignal) => Promise<RawReply>;

/** A sender for `baseUrl` (trailing slashes dropped, so `http://host/prefix/` and `http://host/prefix` are the same). */
export function sender(baseUrl: string, options: SenderOptions = {}): Sender {
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));
  const { token, maxBodyBytes } = options;
  return async ({ method, path, body }, signal) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal !== undefined) init.signal = signal;
    const request = new Request(base + path, init);
    const reply = (async (): Promise<RawReply> => {
      const response = await doFetch(request);
      const text = await readText(response, maxBodyBytes);
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    })();
    return signal === undefined ? reply : untilAborted(reply, signal);
  };
}
