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
import { CORS_HEADERS, jsonResponse } from './http/response.ts';
import { failureLog, type Logger, logSafe } from './logger.ts';
import type { ActionInput, Operation, Operations } from './operations/index.ts';

type Method = 'GET' | 'POST' | 'DELETE';
type Handler = (c: Context) => Promise<Response>;

/** Every path, with the handler behind each method. Registration order matters: `/actions/...` before `/:id/...`. */
function routeTable(ops: Operations, on: Binders): [string, Partial<Record<Method, Handler>>][] {
  const { request, action } = on;
  return [
    ['/', { GET: request(ops.introspect) }],
    ['/run', { POST: request(ops.run) }],
    ['/actions', { GET: request(ops.enumerate), POST: request(ops.run) }],
    ['/actions/:id', { GET: action(ops.status), DELETE: action(ops.release) }],
    ['/actions/:id/cancel', { POST: action(ops.cancel) }],
    ['/actions/:id/release', { POST: action(ops.release) }],
    ['/actions/:id/resume', { POST: action(ops.resume) }],
    ['/actions/:id/log', { GET: action(ops.log) }],
    ['/:id/status', { GET: action(ops.status) }],
    ['/:id/cancel', { POST: action(ops.cancel) }],
    ['/:id/release', { POST: action(ops.release) }],
    ['/:id/resume', { POST: action(ops.resume) }],
    ['/:id/log', { GET: action(ops.log) }],
  ];
}

/** Turn an operation into a Hono handler: one for routes without an `{id}`, one for routes with one. */
interface Binders {
  request(operation: Operation): Handler;
  action(operation: Operation<ActionInput>): Handler;
}

/** The methods a path answers, as `Allow` lists them (HEAD wherever GET is). */
function allowList(methods: Method[]): string {
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
}

function preflight(path: string, methods: Method[]): () => Response {
  // The introspection document answers GET, OPTIONS as the Python toolkit does; other paths list theirs.
  const headers = {
    ...CORS_HEADERS,
    'access-control-allow-methods': path === '/' ? 'GET, OPTIONS' : allowList(methods),
    'access-control-allow-headers': 'Authorization, Content-Type',
    'access-control-max-age': '86400',
    allow: allowList(methods),
  };
  return () => new Response(null, { status: 204, headers });
}

/** The runtime's waitUntil (Workers), else a background promise whose rejection is logged. */
function waitUntilFor(logger: Logger): (c: Context) => WaitUntil {
  const logFailure = (error: unknown) => logger.error('background work failed', { error: logSafe(error) });
  const background: WaitUntil = (promise) => void promise.catch(logFailure);
  return (c) => {
    let ctx: { waitUntil?: (promise: Promise<unknown>) => void } | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      return background; // Hono throws when the runtime passed no ExecutionContext
    }
    const native = ctx?.waitUntil?.bind(ctx);
    return native === undefined ? background : (promise) => native(promise.catch(logFailure));
  };
}

/**
 * The app, routing on the path after `base` (a normalised prefix, or '' for none). Under a
 * prefix Hono is given the path to match rather than a second Request made without the prefix:
 * on Node that copy cost more than the whole of a status request.
 */
export function createApp(ops: Operations, logger: Logger, clock: () => number = Date.now, base = ''): Hono {
  const app = base === '' ? new Hono({ strict: false }) : new Hono({ getPath: prefixedPath(base) });
  const logFailure = failureLog(logger, clock);
  const waitUntilOf = waitUntilFor(logger);
  // waitUntil is resolved when a callback calls it: Hono's executionCtx getter throws (an Error
  // with a stack trace) on runtimes without one, too costly for every request.
  // The operation's promise is kept on its input, so a callback's signal can tell an abort
  // after the answer (Deno aborts every request's signal once it answered) from a client leaving.
  const answered = <I extends ContextSource>(input: I, answer: Promise<Response>) => {
    input.answer = answer;
    return answer;
  };
  const binders: Binders = {
    request: (operation) => (c) => {
      const input: ContextSource = { request: c.req.raw, waitUntil: (p) => waitUntilOf(c)(p), answer: undefined };
      return answered(input, operation(input));
    },
    // Every path bound with `action` has an `:id`.
    action: (operation) => (c) => {
      const input = {
        request: c.req.raw,
        actionId: c.req.param('id') as string,
        waitUntil: (p: Promise<unknown>) => waitUntilOf(c)(p),
        answer: undefined as Promise<unknown> | undefined,
      };
      return answered(input, operation(input));
    },
  };
  /** Each path's pattern and `Allow` list, for telling 405 from 404 once no route matched. */
  const known: { pattern: RegExp; allow: string }[] = [];
  for (const [path, handlers] of routeTable(ops, binders)) {
    const methods = Object.keys(handlers) as Method[];
    known.push({ pattern: new RegExp(`^${path.replaceAll(':id', '[^/]+')}/?$`), allow: allowList(methods) });
    for (const method of methods) app.on(method, path, handlers[method] as Handler);
    app.options(path, preflight(path, methods));
  }
  // A wrong method is told apart here rather than by an `app.all` per path: that way each
  // request matches exactly one handler, which Hono runs without its middleware machinery.
  app.notFound((c: Context) => {
    const allow = known.find(({ pattern }) => pattern.test(c.req.path))?.allow;
    if (allow === undefined) return new ActionError('ActionNotFound', 'No such route').getResponse();
    const description = `${c.req.method} is not allowed here; use ${allow}`;
    return new ActionError('MethodNotAllowed', description, { headers: { allow } }).getResponse();
  });
  app.onError((error) => {
    // A consent needed where there is no action to make INACTIVE (a group decision, say): the
    // 403 every Globus client reads as "ask the user to consent" (a GARE).
    if (isConsentRequired(error)) return jsonResponse(consentRequirement(ops.providerScope, error), 403);
    // A session requirement unmet where there is no action to make INACTIVE (run, say): the same.
    if (isAuthorizationRequired(error)) return jsonResponse(authorizationRequirement(error), 403);
    if (isActionError(error)) {
      if (error.status >= 500) logFailure('warn', 'request failed', error, { code: error.code });
      // A client that left mid-body: one debug line per minute and cause, without a stack.
      else if (error.description === BODY_CUT_OFF) logFailure('debug', BODY_CUT_OFF, String(error.cause));
      return error.getResponse();
    }
    logFailure('error', 'unhandled error', error);
    return jsonResponse(INTERNAL_ERROR, 500);
  });
  return app;
}
