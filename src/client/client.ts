/**
 * @module client/client: `actionProviderClient`, a typed client for any Action Provider (ours,
 * the Python toolkit's, one written by hand), over either route family: each operation answers
 * the document it promises or throws an `ActionProviderError`. Web-standard only (fetch, URL,
 * AbortSignal), so it runs on Node, Bun, Deno, Workers and in browsers.
 */
import { readGare } from '../auth/gare.ts';
import type { EnumerateRole } from '../context.ts';
import type { ProviderDescription } from '../description.ts';
import {
  ACTION_STATUSES,
  type ActionRequestEnvelope,
  type ActionStatus,
  type ActionStatusValue,
  isPlainObject,
  type LogPage,
} from '../model.ts';
import { ActionProviderError } from './errors.ts';
import {
  BodyTooLargeError,
  type FetchLike,
  isAddressable,
  type RawReply,
  type Route,
  type RouteFamily,
  routes,
  sender,
} from './request.ts';
import { type Sleep, sleepFor, type WaitOptions, waitForStatus } from './wait.ts';

export interface ActionProviderClientOptions {
  /** The bearer token sent with every call (introspection of a public provider needs none). */
  token?: string | undefined;
  /** Route family. Default `legacy` (`/run`, `/{id}/status`, ...: what Globus Flows calls). */
  routes?: RouteFamily | undefined;
  /** Default the global fetch; `provider.fetch` calls a provider in process. */
  fetch?: FetchLike | undefined;
  /** Now, in ms since the epoch, for `waitFor`'s deadline. Default `Date.now`. */
  clock?: (() => number) | undefined;
  /** How `waitFor` waits between reads. Default a setTimeout cut short by the signal. */
  sleep?: Sleep | undefined;
}

/** What every operation takes: a signal that aborts the request (it rejects with the signal's reason). */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** The ActionRequest to run; `request_id` defaults to a new UUID (send your own to retry safely). */
export type RunRequest = Omit<ActionRequestEnvelope, 'request_id'> & {
  request_id?: string | number | undefined;
};

export interface LogQuery extends CallOptions {
  /** Entries per page (the provider's default, 10 for ours, when left out). */
  limit?: number | undefined;
  /** The `marker` of the previous page, for the next one. */
  marker?: string | undefined;
}

export interface ListQuery extends CallOptions {
  /** Which statuses (default ACTIVE, the provider's default). */
  status?: ActionStatusValue | readonly ActionStatusValue[] | undefined;
  /** Which of the caller's roles (default creator_id). */
  roles?: EnumerateRole | readonly EnumerateRole[] | undefined;
  /** Actions per page, a whole number from 1 (the provider's default when left out: 1,000 for ours, at most 1,000). */
  limit?: number | undefined;
}

export interface ListPageQuery extends ListQuery {
  /** Where to start: the `marker` of the previous page. */
  marker?: string | undefined;
}

/** One page of `GET /actions`, newest first (on our providers). */
export interface ListPage {
  actions: ActionStatus[];
  /**
   * The next page's marker (the `X-Next-Marker` header); absent on the last page, and always
   * for a provider that does not page (the Python toolkit's answers everything at once).
   */
  marker?: string;
}

export interface ActionProviderClient {
  /** The provider's base URL, with a trailing slash. */
  readonly url: string;
  readonly routes: RouteFamily;
  /** `GET /`: the introspection document. */
  introspect(options?: CallOptions): Promise<ProviderDescription>;
  /** `POST /run` (`POST /actions`): the new action's status. */
  run(request: RunRequest, options?: CallOptions): Promise<ActionStatus>;
  status(actionId: string, options?: CallOptions): Promise<ActionStatus>;
  cancel(actionId: string, options?: CallOptions): Promise<ActionStatus>;
  /** The last status of a completed action, which the provider then forgets. */
  release(actionId: string, options?: CallOptions): Promise<ActionStatus>;
  resume(actionId: string, options?: CallOptions): Promise<ActionStatus>;
  log(actionId: string, query?: LogQuery): Promise<LogPage>;
  /** `GET /actions`: every one of the caller's actions, each page followed to the last. */
  list(query?: ListQuery): Promise<ActionStatus[]>;
  /** `GET /actions`, one page: its actions, and the marker of the next one if any. */
  listPage(query?: ListPageQuery): Promise<ListPage>;
  /**
   * `GET /actions` a page at a time, from `marker` (or the first page) to the last: stop early,
   * or keep a page's marker to go on later, without holding every action.
   *
   * @example
   * ```ts
   * for await (const page of client.listPages({ status: ['SUCCEEDED', 'FAILED'] }))
   *   for (const action of page.actions) await client.release(action.action_id)
   * ```
   */
  listPages(query?: ListPageQuery): AsyncGenerator<ListPage, void, undefined>;
  /**
   * Poll the status as Flows does (after 1 s, 2 s, 4 s, ... up to `maxDelay`) until it is
   * SUCCEEDED, FAILED or INACTIVE (see `until`), and resolve with it; reject when the deadline
   * passes (`DeadlineExceeded`) or the signal aborts (its reason).
   */
  waitFor(actionId: string, options?: WaitOptions): Promise<ActionStatus>;
}

const isActionStatus = (value: unknown): value is ActionStatus =>
  isPlainObject(value) &&
  // An id that cannot be put in a URL path could not be asked about again.
  isAddressable(value['action_id']) &&
  (ACTION_STATUSES as readonly unknown[]).includes(value['status']);

const isLogPage = (value: unknown): value is LogPage => isPlainObject(value) && Array.isArray(value['entries']);

function checkOptions(baseUrl: unknown, options: ActionProviderClientOptions): URL {
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch {
    throw new TypeError('actionProviderClient: baseUrl must be an absolute http(s) URL');
  }
  if (typeof baseUrl !== 'string' || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new TypeError('actionProviderClient: baseUrl must be an absolute http(s) URL');
  // fetch refuses such URLs, and a message naming the URL would show the password.
  if (url.username !== '' || url.password !== '')
    throw new TypeError('actionProviderClient: baseUrl must not hold a user name or password');
  const { token, routes: family, fetch, clock, sleep } = options;
  // The message never repeats the token.
  if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)))
    throw new TypeError('actionProviderClient: token must be a bearer token (printable, no spaces or line breaks)');
  if (family !== undefined && family !== 'legacy' && family !== 'actions')
    throw new TypeError("actionProviderClient: routes must be 'legacy' or 'actions'");
  for (const [name, value] of [
    ['fetch', fetch],
    ['clock', clock],
    ['sleep', sleep],
  ] as const)
    if (value !== undefined && typeof value !== 'function')
      throw new TypeError(`actionProviderClient: ${name} must be a function`);
  return url;
}

/** `actionId`, if a URL path can hold it (else a TypeError: `..` would reach another route). */
function addressed(actionId: string): string {
  if (!isAddressable(actionId))
    throw new TypeError(`action id must be a non-empty string other than . and .., not ${JSON.stringify(actionId)}`);
  return actionId;
}

/** The header of a page of `GET /actions` holding the next page's marker (ours: see enumerate). */
const NEXT_MARKER = 'x-next-marker';

/** The longest body the client reads: far above any provider document, far below what would exhaust memory. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Why fetch failed, from its error and the error's cause (undici puts ECONNREFUSED there). */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail === '' || error.message.includes(detail) ? error.message : `${error.message} (${detail})`;
}

/** Enough of a body that is not JSON to recognise it: an HTML page's title, or its first characters. */
function glimpse(text: string): string {
  const title = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(text)?.[1];
  const shownText = (title ?? text).replace(/\s+/g, ' ').trim();
  return shownText.length > 120 ? `${shownText.slice(0, 117)}...` : shownText;
}

/**
 * A client for the Action Provider at `baseUrl` (with any prefix it is mounted under). Options
 * are checked here, once: a TypeError names the one that is wrong.
 *
 * @example
 * ```ts
 * import { actionProviderClient, isActionProviderError } from 'globus-action-provider/client'
 *
 * const client = actionProviderClient('https://actions.example.org/echo', { token })
 * const { action_id } = await client.run({ body: { input_string: 'hi' }, label: 'hello' })
 * const done = await client.waitFor(action_id, { onStatus: (s) => console.log(s.status, s.display_status) })
 * console.log(done.details)
 * await client.release(action_id)
 * ```
 */
export function actionProviderClient(baseUrl: string, options: ActionProviderClientOptions = {}): ActionProviderClient {
  const url = checkOptions(baseUrl, options);
  const family: RouteFamily = options.routes ?? 'legacy';
  const send = sender(baseUrl, { token: options.token, fetch: options.fetch, maxBodyBytes: MAX_BODY_BYTES });
  const route = routes(family);
  const base = baseUrl.replace(/\/+$/, '');
  const env = { clock: options.clock ?? Date.now, sleep: options.sleep ?? sleepFor };

  /** Send `r`; answer the body `accept` recognises (and the headers), or throw what the answer (or its absence) means. */
  async function exchange<T>(
    make: () => Route,
    signal: AbortSignal | undefined,
    accept: (body: unknown) => body is T,
    what: string,
  ): Promise<{ body: T; headers: Headers }> {
    // Built here, so that an action id no URL can hold (a TypeError) rejects rather than throws.
    const r = make();
    const where = { method: r.method, url: base + r.path };
    let reply: RawReply<unknown>;
    try {
      reply = await send(r, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof BodyTooLargeError)
        throw new ActionProviderError({ code: 'UnexpectedResponse', description: error.message, ...where });
      throw new ActionProviderError({
        code: 'NetworkError',
        description: `no answer from ${url.origin}: ${reason(error)}`,
        ...where,
        cause: error,
      });
    }
    if (reply.status >= 200 && reply.status < 300) {
      if (accept(reply.body)) return { body: reply.body, headers: reply.headers };
      const got = reply.body === undefined ? `no JSON (${glimpse(reply.text) || 'an empty body'})` : 'other JSON';
      throw new ActionProviderError({
        code: 'UnexpectedResponse',
        description: `expected ${what}, got ${got}`,
        status: reply.status,
        body: reply.text,
        ...where,
      });
    }
    throw failure(reply, where);
  }

  const call = async <T>(
    make: () => Route,
    signal: AbortSignal | undefined,
    accept: (body: unknown) => body is T,
    what: string,
  ): Promise<T> => (await exchange(make, signal, accept, what)).body;

  function failure(reply: RawReply<unknown>, where: { method: string; url: string }): ActionProviderError {
    const { status, text, body } = reply;
    const init = { status, body: text, ...where };
    if (isPlainObject(body)) {
      const code = typeof body['code'] === 'string' && body['code'] !== '' ? body['code'] : readGare(body)?.code;
      if (code !== undefined) {
        // A GARE without a description (Flows' own 403s) still says why, in its session message.
        const said = [
          body['description'],
          body['message'],
          body['detail'],
          readGare(body)?.authorization_parameters.session_message,
        ].find((d) => typeof d === 'string');
        return new ActionProviderError({
          ...init,
          code,
          description: (said as string | undefined) ?? `HTTP ${status}`,
        });
      }
    }
    const type = reply.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type';
    const seen =
      body === undefined ? `${type}${text === '' ? ', empty' : `: ${glimpse(text)}`}` : 'JSON without a code';
    const hint = status === 404 ? ` (is ${base}/ an Action Provider?)` : '';
    return new ActionProviderError({
      ...init,
      code: 'UnexpectedResponse',
      description: `HTTP ${status} that is not an Action Provider's JSON error (${seen})${hint}`,
    });
  }

  const status = (actionId: string, o: CallOptions = {}) =>
    call(() => route.status(addressed(actionId)), o.signal, isActionStatus, 'an ActionStatus');
  const join = <T extends string>(value: T | readonly T[] | undefined) =>
    value === undefined ? undefined : typeof value === 'string' ? value : value.join(',');

  const listPage = async (q: ListPageQuery = {}): Promise<ListPage> => {
    const { body, headers } = await exchange(
      () => {
        // Checked here, so that a bad limit or marker rejects rather than throws.
        if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 1))
          throw new TypeError('list: limit must be a whole number from 1');
        if (q.marker !== undefined && (typeof q.marker !== 'string' || q.marker === ''))
          throw new TypeError("list: marker must be the previous page's marker");
        return route.list({ status: join(q.status), roles: join(q.roles), limit: q.limit, marker: q.marker });
      },
      q.signal,
      (b): b is ActionStatus[] => Array.isArray(b) && b.every(isActionStatus),
      'a list of ActionStatus',
    );
    const marker = headers.get(NEXT_MARKER) ?? '';
    return marker === '' ? { actions: body } : { actions: body, marker };
  };

  async function* listPages(q: ListPageQuery = {}): AsyncGenerator<ListPage, void, undefined> {
    for (let marker = q.marker; ; ) {
      const page = await listPage({ ...q, marker });
      yield page;
      if (page.marker === undefined) return;
      // A provider that answers the marker it was given would be followed for ever.
      if (page.marker === marker) {
        throw new ActionProviderError({
          code: 'UnexpectedResponse',
          description: 'the provider answered the marker it was sent as the next page’s: its pages do not advance',
          method: 'GET',
          url: `${base}/actions`,
        });
      }
      marker = page.marker;
    }
  }

  return {
    url: `${base}/`,
    routes: family,
    introspect: (o = {}) =>
      call(
        () => route.introspect(),
        o.signal,
        (b): b is ProviderDescription => isPlainObject(b),
        'an introspection document',
      ),
    run: ({ request_id = crypto.randomUUID(), ...rest }, o = {}) =>
      call(() => route.run({ request_id, ...rest }), o.signal, isActionStatus, 'an ActionStatus'),
    status,
    cancel: (a, o = {}) => call(() => route.cancel(addressed(a)), o.signal, isActionStatus, 'an ActionStatus'),
    release: (a, o = {}) => call(() => route.release(addressed(a)), o.signal, isActionStatus, 'an ActionStatus'),
    resume: (a, o = {}) => call(() => route.resume(addressed(a)), o.signal, isActionStatus, 'an ActionStatus'),
    log: (a, q = {}) =>
      call(() => route.log(addressed(a), { limit: q.limit, marker: q.marker }), q.signal, isLogPage, 'a log page'),
    list: async (q = {}) => {
      const all: ActionStatus[] = [];
      for await (const page of listPages(q)) all.push(...page.actions);
      return all;
    },
    listPage,
    listPages,
    waitFor: (a, o = {}) => waitForStatus((signal) => status(a, { signal }), o, env),
  };
}
