/**
 * @module context: what each callback receives (one object), and how those objects are built.
 * `signal` is read from the request only when a callback asks for it (on Node, making the
 * signal costs an AbortController per request), so it is a getter: destructure it or read it,
 * a spread (`{ ...context }`) leaves it out. It means one thing everywhere: the client went away
 * before the answer. Deno aborts `request.signal` once the response is sent; that abort never
 * reaches a callback (work kept going with `waitUntil` would otherwise die there only).
 */
import { demandSession, type SessionRequirement, sessionRequirement } from './auth/session.ts';
import type { Caller } from './auth/types.ts';
import type { ActionStatus, ActionStatusValue, ActionView, JsonObject, StoredRequest } from './model.ts';
import type { RequestScope } from './observe/request-observer.ts';

/** Runs work that may outlive the response (a Worker's `ctx.waitUntil`, or a logged background promise). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** What every callback receives. */
export interface CallbackContext {
  caller: Caller;
  /**
   * Aborted when the client goes away before the answer (never after it, on any runtime).
   * Background work has a signal of its own (`WorkContext.signal`: cancel, deadline, shutdown).
   */
  signal: AbortSignal;
  /**
   * Keep work going after the response (on Workers, `ctx.waitUntil`; elsewhere the promise
   * simply runs, and a rejection is logged).
   */
  waitUntil: WaitUntil;
  /**
   * Demand more of the caller's Globus session for this action (an identity from `domains`,
   * one of `identities`, `mfa`, authentication `policies`): resolves when the session satisfies
   * it, else rejects with AuthorizationRequiredError. Let that propagate: from `run` it is a
   * 403 whose body is the requirements error (GARE) Globus clients prompt the user with, nothing
   * stored; from `status`, `resume` or `cancel` the action goes INACTIVE with that GARE until a
   * caller whose session satisfies it resumes it (or polls it, as Flows does).
   *
   * @example
   * ```ts
   * run: async ({ request, requireSession }) => {
   *   if (request.body.sensitive) await requireSession({ domains: ['uchicago.edu'], mfa: true })
   *   return { status: 'ACTIVE' }
   * }
   * ```
   */
  requireSession(requirement: SessionRequirement): Promise<void>;
}

/** The validated ActionRequest a `run` callback receives, with `body` typed by the input schema. */
export type ActionRequest<TBody = JsonObject> = StoredRequest<TBody>;

export interface RunContext<TBody = JsonObject> extends CallbackContext {
  request: ActionRequest<TBody>;
  /** The id the toolkit assigned; already stored, so a background job may update it. */
  actionId: string;
  /**
   * Keep tokens for the action, to act for the user after this request is gone (in `work`,
   * hours later, after a restart, on another instance): the caller's dependent tokens with
   * refresh tokens (`access_type=offline`), sealed with the provider's `tokenKey` and stored with
   * run's answer, never in `state`. Later, `keptToken(scope)` returns a valid access token. Name
   * the scopes the action needs (the others granted are revoked at once); without them, every
   * dependent scope is kept. Resolves to the scopes kept. A scope the user has not consented to
   * rejects with ConsentRequiredError: let it propagate and the action goes INACTIVE, asking for
   * consent; the creator's resume asks for the tokens again. The tokens are revoked once the
   * action completes. Needs `tokenKey` and an authenticator that can keep tokens (`globusAuth`).
   *
   * @example
   * ```ts
   * run: async ({ keepTokens }) => {
   *   await keepTokens([TRANSFER_SCOPE])
   *   return { status: 'ACTIVE' }
   * },
   * work: async ({ keptToken }) => {
   *   const token = await keptToken(TRANSFER_SCOPE) // refreshed if it was about to expire
   *   ...
   * }
   * ```
   */
  keepTokens(scopes?: readonly string[]): Promise<string[]>;
}

export interface ActionContext<TBody = JsonObject> extends CallbackContext {
  /** The action, loaded from the store; the caller is already authorized for the operation. */
  action: ActionView<TBody>;
  /**
   * An access token for `scope` (or a resource server) from the tokens `run` kept for this action
   * (`keepTokens`), refreshed when it is about to expire. It acts for the action's creator,
   * whoever makes this request: `caller.tokenFor` is the caller's own. Rejects with
   * ConsentRequiredError when Globus refuses the refresh token (the user revoked consent, say),
   * or when the kept tokens no longer open: from `status` or `resume` the action then goes
   * INACTIVE, asking for consent. Tokens are gone once the action completes.
   */
  keptToken(scope: string): Promise<string>;
}

export interface LogContext<TBody = JsonObject> extends ActionContext<TBody> {
  limit: number;
  marker: string | null;
}

export type EnumerateRole = 'creator_id' | 'monitor_by' | 'manage_by';

export interface EnumerateContext extends CallbackContext {
  statuses: ActionStatusValue[];
  roles: EnumerateRole[];
  /**
   * The page size the caller asked for (`limit`), or the default: DEFAULT_ENUMERATE_LIMIT, at
   * most MAX_ENUMERATE_LIMIT. A callback that answers a page (EnumeratePage) lists at most this many.
   */
  limit: number;
  /**
   * The `marker` this callback returned with the previous page, or null for the first. The
   * provider checks that the caller's marker is one it made for this listing (same statuses,
   * roles and caller) before the callback sees it: this is the callback's own text, unwrapped.
   */
  marker: string | null;
}

/**
 * What an `enumerate` callback may answer instead of the whole list: one page, newest first,
 * and where the next one starts. The provider sends `actions` as the JSON array and, when
 * `marker` is a string, the next page's `X-Next-Marker` and `Link` (it wraps the marker,
 * binding it to the listing; the callback gets its own text back in `context.marker`).
 *
 * @example
 * ```ts
 * enumerate: async ({ caller, statuses, limit, marker }) => {
 *   const rows = await db.actionsOf(caller.identities, statuses, { after: marker, limit: limit + 1 })
 *   const page = rows.slice(0, limit)
 *   return { actions: page.map(toActionStatus), marker: rows.length > limit ? page.at(-1).id : null }
 * }
 * ```
 */
export interface EnumeratePage {
  actions: ActionStatus[];
  /** Where the next page starts (at most 2,048 characters); null or absent on the last page. */
  marker?: string | null;
}

/** The request a context belongs to. */
export interface ContextSource {
  readonly request: Request;
  readonly waitUntil: WaitUntil;
  /**
   * The operation's answer, once the route has called it: after it settles, an abort of the
   * request is not the client leaving (Deno aborts every request's signal once it answered).
   */
  answer?: Promise<unknown> | undefined;
  /** What the request's log line, span and hooks will say: operations fill in the caller and the action. */
  readonly scope?: RequestScope | undefined;
}

/**
 * The shared part. `signal` is a getter on the prototype: an object literal with a getter costs
 * V8 about 0.5 µs to build (2.5 µs with a spread), a class instance about 0.05 µs.
 */
class Context implements CallbackContext {
  readonly caller: Caller;
  readonly waitUntil: WaitUntil;
  readonly #source: ContextSource;
  #signal: AbortSignal | undefined;

  constructor(source: ContextSource, caller: Caller) {
    this.caller = caller;
    this.waitUntil = source.waitUntil;
    this.#source = source;
  }

  /** A getter, so that a destructured `requireSession` keeps its caller; the function is made only when read. */
  get requireSession(): (requirement: SessionRequirement) => Promise<void> {
    const { caller } = this;
    // A bad requirement is the provider's bug: a TypeError, answered as a logged 500.
    return (requirement) => demandSession(caller, sessionRequirement(requirement, 'requireSession'));
  }

  get signal(): AbortSignal {
    if (this.#signal !== undefined) return this.#signal;
    const { request, answer } = this.#source;
    if (answer === undefined) {
      this.#signal = request.signal; // a context outside a route: the request's own
      return request.signal;
    }
    // The request's abort, passed on only while the operation has not answered. Watched only for
    // the callbacks that read their signal, so other requests pay nothing for it.
    const controller = new AbortController();
    let answered = false;
    const settled = () => {
      answered = true;
    };
    answer.then(settled, settled);
    const follow = () => {
      if (!answered) controller.abort(request.signal.reason);
    };
    // Aborted already: decided a microtask later, once a settled answer has said so.
    if (request.signal.aborted) queueMicrotask(follow);
    else request.signal.addEventListener('abort', follow, { once: true });
    this.#signal = controller.signal;
    return controller.signal;
  }
}

/** A callback's context: the shared part plus what this callback needs (`action`, `limit`, ...). */
export function callbackContext<T extends object>(
  source: ContextSource,
  caller: Caller,
  fields: T,
): T & CallbackContext {
  return Object.assign(new Context(source, caller), fields);
}
