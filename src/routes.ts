/**
 * @module routes: the Hono app: both route families of the Action Provider Interface (legacy
 * `/run`, `/{id}/status` and `/actions`), JSON 404/405 answers and CORS preflights.
 */
import { type Context, Hono } from 'hono';
import { isConsentRequired } from './auth/consent.ts';
import { authorizationRequirement, consentRequirement, isAuthorizationRequired } from './auth/gare.ts';
import type { ContextSource, WaitUntil } from './context.ts';
import { BODY_CUT_OFF } from './http/body.ts';
import { ActionError, INTERNAL_ERROR, isActionError } from './http/errors.ts';
import { prefixedPath } from './http/prefix.ts';
import { CORS_HEADERS, jsonResponse, jsonResponseWith } from './http/response.ts';
import { failureLog, type Logger } from './logger.ts';
import { REQUEST_ID_HEADER } from './observe/request-id.ts';
import { type Observed, type RequestScope, requestObserver } from './observe/request-observer.ts';
import type { ActionInput, Operation, Operations } from './operations/index.ts';
import type { ProviderConfig } from './options.ts';

type Method = 'GET' | 'POST' | 'DELETE';
type Handler = (c: Context) => Promise<Response>;
type RequestOperation = 'introspect' | 'run' | 'enumerate';
type ActionOperation = 'status' | 'cancel' | 'release' | 'resume' | 'log';

/** Every path, with the operation behind each method. Registration order matters: `/actions/...` before `/:id/...`. */
const ROUTES: [string, Partial<Record<Method, RequestOperation | ActionOperation>>][] = [
  ['/', { GET: 'introspect' }],
  ['/run', { POST: 'run' }],
  ['/actions', { GET: 'enumerate', POST: 'run' }],
  ['/actions/:id', { GET: 'status', DELETE: 'release' }],
  ['/actions/:id/cancel', { POST: 'cancel' }],
  ['/actions/:id/release', { POST: 'release' }],
  ['/actions/:id/resume', { POST: 'resume' }],
  ['/actions/:id/log', { GET: 'log' }],
  ['/:id/status', { GET: 'status' }],
  ['/:id/cancel', { POST: 'cancel' }],
  ['/:id/release', { POST: 'release' }],
  ['/:id/resume', { POST: 'resume' }],
  ['/:id/log', { GET: 'log' }],
];

const REQUEST_OPERATIONS: readonly string[] = ['introspect', 'run', 'enumerate'];

/** Each path as a pattern matching it (with or without a trailing slash). */
const PATTERNS: readonly RegExp[] = ROUTES.map(([path]) => new RegExp(`^${path.replaceAll(':id', '[^/]+')}/?$`));

/**
 * Whether the provider serves `path` (relative to its prefix): what an adapter serving routes of
 * its own beside it (health, say) must not hide.
 */
export const isProviderPath = (path: string): boolean => PATTERNS.some((pattern) => pattern.test(path));

/** The methods a path answers, as `Allow` lists them (HEAD wherever GET is). */
function allowList(methods: Method[]): string {
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
}

function preflight(path: string, methods: Method[]): (scope: RequestScope) => Response {
  // The introspection document answers GET, OPTIONS as the Python toolkit does; other paths list theirs.
  const headers = {
    ...CORS_HEADERS,
    'access-control-allow-methods': path === '/' ? 'GET, OPTIONS' : allowList(methods),
    'access-control-allow-headers': 'Authorization, Content-Type',
    'access-control-max-age': '86400',
    allow: allowList(methods),
  };
  return (scope) => {
    scope.stamped = true;
    return new Response(null, { status: 204, headers: { ...headers, [REQUEST_ID_HEADER]: scope.requestId } });
  };
}

/** The runtime's waitUntil (Workers), else a background promise whose rejection is logged. */
function waitUntilFor(logger: Logger, clock: () => number): (c: Context, scope: RequestScope) => WaitUntil {
  // Once per cause a minute, with the id of the request that started it.
  const logFailure = failureLog(logger, clock);
  return (c, scope) => {
    const failed = (error: unknown) =>
      logFailure('error', 'background work failed', error, { request_id: scope.requestId });
    let ctx: { waitUntil?: (promise: Promise<unknown>) => void } | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      // Hono throws when the runtime passed no ExecutionContext
      return (promise) => void promise.catch(failed);
    }
    const native = ctx?.waitUntil?.bind(ctx);
    return native === undefined ? (promise) => void promise.catch(failed) : (promise) => native(promise.catch(failed));
  };
}

/**
 * The app, routing on the path after `base` (a normalised prefix, or '' for none). Under a
 * prefix Hono is given the path to match rather than a second Request made without the prefix:
 * on Node that copy cost more than the whole of a status request.
 */
export function createApp(ops: Operations, config: ProviderConfig, base = ''): Hono {
  const { logger } = config;
  const app = base === '' ? new Hono({ strict: false }) : new Hono({ getPath: prefixedPath(base) });
  const errorAnswer = errorAnswerFor(ops.providerScope, config);
  const observe: Observed = requestObserver({
    logger,
    info: config.logLevels.info,
    hooks: config.hooks,
    telemetry: config.telemetry,
    errorAnswer,
    hookFailed: hookFailureLog(config),
  });
  const waitUntilOf = waitUntilFor(logger, config.clock);
  // waitUntil is resolved when a callback calls it: Hono's executionCtx getter throws (an Error
  // with a stack trace) on runtimes without one, too costly for every request.
  // The operation's promise is kept on its input, so a callback's signal can tell an abort
  // after the answer (Deno aborts every request's signal once it answered) from a client leaving.
  const answered = <I extends ContextSource>(input: I, answer: Promise<Response>) => {
    input.answer = answer;
    return answer;
  };
  const bind = (path: string, name: RequestOperation | ActionOperation): Handler => {
    const route = base + path;
    if (REQUEST_OPERATIONS.includes(name)) {
      const operation = ops[name as RequestOperation] as Operation;
      return (c) =>
        observe(c.req.raw, route, name, undefined, (scope: RequestScope) => {
          const input: ContextSource = {
            request: c.req.raw,
            waitUntil: (p) => waitUntilOf(c, scope)(p),
            answer: undefined,
            scope,
          };
          return answered(input, operation(input));
        });
    }
    const operation = ops[name as ActionOperation] as Operation<ActionInput>;
    // Every path of an action operation has an `:id`.
    return (c) => {
      const actionId = c.req.param('id') as string;
      return observe(c.req.raw, route, name, actionId, (scope: RequestScope) => {
        const input: ActionInput = {
          request: c.req.raw,
          actionId,
          waitUntil: (p: Promise<unknown>) => waitUntilOf(c, scope)(p),
          answer: undefined as Promise<unknown> | undefined,
          scope,
        };
        return answered(input, operation(input));
      });
    };
  };
  /** Each path's pattern and `Allow` list, for telling 405 from 404 once no route matched. */
  const known: { pattern: RegExp; allow: string }[] = [];
  for (const [index, [path, operations]] of ROUTES.entries()) {
    const methods = Object.keys(operations) as Method[];
    known.push({ pattern: PATTERNS[index] as RegExp, allow: allowList(methods) });
    for (const method of methods) app.on(method, path, bind(path, operations[method] as RequestOperation));
    const answer = preflight(path, methods);
    const route = base + path;
    app.options(path, (c) => observe(c.req.raw, route, 'preflight', undefined, answer));
  }
  // A wrong method is told apart here rather than by an `app.all` per path: that way each
  // request matches exactly one handler, which Hono runs without its middleware machinery.
  app.notFound((c: Context) =>
    observe(c.req.raw, undefined, undefined, undefined, (scope) => {
      const allow = known.find(({ pattern }) => pattern.test(c.req.path))?.allow;
      if (allow === undefined) return answerError(new ActionError('ActionNotFound', 'No such route'), scope);
      const description = `${c.req.method} is not allowed here; use ${allow}`;
      return answerError(new ActionError('MethodNotAllowed', description, { headers: { allow } }), scope);
    }),
  );
  // Only what escaped the handlers (none does): the same answers, without a request id.
  app.onError((error) => errorAnswer(error, undefined));
  return app;
}

/**
 * The answer to what an operation threw, and its log line: a 5xx once per cause per minute, the
 * reason of a 401 or 403 at debug (an expired token and a wrong issuer look the same to the
 * caller: the log tells them apart), with the request's id.
 */
function errorAnswerFor(
  providerScope: string,
  config: ProviderConfig,
): (error: unknown, scope: RequestScope | undefined) => Response {
  const logFailure = failureLog(config.logger, config.clock);
  const debug = config.logLevels.debug;
  const ids = (scope: RequestScope | undefined) => (scope === undefined ? {} : { request_id: scope.requestId });
  return (error, scope) => {
    // A consent needed where there is no action to make INACTIVE (a group decision, say): the
    // 403 every Globus client reads as "ask the user to consent" (a GARE).
    if (isConsentRequired(error)) return answer(consentRequirement(providerScope, error), 403, scope);
    // A session requirement unmet where there is no action to make INACTIVE (run, say): the same.
    if (isAuthorizationRequired(error)) {
      if (debug) config.logger.debug('request refused', { ...ids(scope), status: 403, reason: error.message });
      return answer(authorizationRequirement(error), 403, scope);
    }
    if (isActionError(error)) {
      if (error.status >= 500) logFailure('warn', 'request failed', error, { ...ids(scope), code: error.code });
      else if (error.status === 401 || error.status === 403) {
        if (debug) config.logger.debug('request refused', refusal(error, scope));
      }
      // A client that left mid-body: one debug line per minute and cause, without a stack.
      else if (error.description === BODY_CUT_OFF) logFailure('debug', BODY_CUT_OFF, String(error.cause), ids(scope));
      return answerError(error, scope);
    }
    logFailure('error', 'unhandled error', error, ids(scope));
    return answer(INTERNAL_ERROR, 500, scope);
  };
}

/** A JSON answer, with the request's id when there is a request. */
function answer(
  body: unknown,
  status: number,
  scope: RequestScope | undefined,
  extra?: Record<string, string>,
): Response {
  return scope === undefined ? jsonResponse(body, status, extra) : jsonResponseWith(body, status, scope.headers(extra));
}

/** An ActionError's answer (of this or another copy of the library), with the request's id. */
function answerError(error: ActionError, scope: RequestScope | undefined): Response {
  if (scope === undefined) return error.getResponse();
  const { headers } = error;
  return answer(error.toJSON(), error.status, scope, Object.keys(headers).length === 0 ? undefined : { ...headers });
}

/** A 401 or 403's debug line: what the caller was told and, when there is one, the cause they were not. */
function refusal(error: ActionError, scope: RequestScope | undefined) {
  const cause = error.cause;
  return {
    ...(scope === undefined ? {} : { request_id: scope.requestId, operation: scope.operation ?? null }),
    status: error.status,
    code: error.code,
    reason: error.description,
    ...(cause === undefined ? {} : { cause: cause instanceof Error ? cause.message : String(cause) }),
  };
}

/** A failing hook, logged once per cause per minute. */
function hookFailureLog(config: ProviderConfig): (hook: string, error: unknown, scope: RequestScope) => void {
  const logFailure = failureLog(config.logger, config.clock);
  return (hook, error, scope) => logFailure('error', `the ${hook} hook failed`, error, { request_id: scope.requestId });
}
