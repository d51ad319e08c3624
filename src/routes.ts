/**
 * @module routes: the Hono app: both route families of the Action Provider Interface (legacy
 * `/run`, `/{id}/status` and `/actions`), JSON 404/405 answers and CORS preflights.
 */
import { type Context, Hono } from 'hono';
import { ActionError, INTERNAL_ERROR, isActionError } from './http/errors.ts';
import { CORS_HEADERS, jsonResponse } from './http/response.ts';
import { type Logger, logSafe } from './logger.ts';
import type { Operation, Operations, WaitUntil } from './operations.ts';

type Method = 'GET' | 'POST' | 'DELETE';

/** Every path, with the operation behind each method. Registration order matters: `/actions/...` before `/:id/...`. */
function routeTable(ops: Operations): [string, Partial<Record<Method, Operation>>][] {
  return [
    ['/', { GET: ops.introspect }],
    ['/run', { POST: ops.run }],
    ['/actions', { GET: ops.enumerate, POST: ops.run }],
    ['/actions/:id', { GET: ops.status, DELETE: ops.release }],
    ['/actions/:id/cancel', { POST: ops.cancel }],
    ['/actions/:id/release', { POST: ops.release }],
    ['/actions/:id/resume', { POST: ops.resume }],
    ['/actions/:id/log', { GET: ops.log }],
    ['/:id/status', { GET: ops.status }],
    ['/:id/cancel', { POST: ops.cancel }],
    ['/:id/release', { POST: ops.release }],
    ['/:id/resume', { POST: ops.resume }],
    ['/:id/log', { GET: ops.log }],
  ];
}

/** The methods a path answers, as `Allow` lists them (HEAD wherever GET is). */
function allowList(methods: Method[]): string {
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
}

export function createApp(ops: Operations, logger: Logger): Hono {
  const app = new Hono({ strict: false });
  const background: WaitUntil = (promise) => {
    promise.catch((error: unknown) => logger.error('background work failed', { error: logSafe(error) }));
  };
  /** The runtime's waitUntil when it has one (Workers), else `background`. */
  const waitUntilOf = (c: Context): WaitUntil => {
    let ctx: { waitUntil?: (promise: Promise<unknown>) => void } | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      return background; // Hono throws when the runtime passed no ExecutionContext
    }
    const native = ctx?.waitUntil?.bind(ctx);
    return native === undefined
      ? background
      : (promise) =>
          native(
            promise.catch((error: unknown) => {
              logger.error('background work failed', { error: logSafe(error) });
            }),
          );
  };

  /** Each path's pattern and `Allow` list, for telling 405 from 404 once no route matched. */
  const known: { pattern: RegExp; allow: string }[] = [];

  for (const [path, handlers] of routeTable(ops)) {
    const methods = Object.keys(handlers) as Method[];
    known.push({ pattern: new RegExp(`^${path.replaceAll(':id', '[^/]+')}/?$`), allow: allowList(methods) });
    for (const method of methods) {
      const operation = handlers[method] as Operation;
      // waitUntil is resolved when a callback calls it: Hono's executionCtx getter throws (an Error
      // with a stack trace) on runtimes without one, too costly for every request.
      app.on(method, path, (c: Context) =>
        operation(c.req.raw, c.req.param('id') ?? '', (promise) => waitUntilOf(c)(promise)),
      );
    }
    // The introspection document answers GET, OPTIONS as the Python toolkit does; other paths list theirs.
    const preflightMethods = path === '/' ? 'GET, OPTIONS' : allowList(methods);
    app.options(
      path,
      () =>
        new Response(null, {
          status: 204,
          headers: {
            ...CORS_HEADERS,
            'access-control-allow-methods': preflightMethods,
            'access-control-allow-headers': 'Authorization, Content-Type',
            'access-control-max-age': '86400',
            allow: allowList(methods),
          },
        }),
    );
  }

  // A wrong method is told apart here rather than by an `app.all` per path: that way each
  // request matches exactly one handler, which Hono runs without its middleware machinery.
  app.notFound((c: Context) => {
    const allow = known.find(({ pattern }) => pattern.test(c.req.path))?.allow;
    if (allow === undefined) return new ActionError('ActionNotFound', 'No such route').getResponse();
    return new ActionError('MethodNotAllowed', `${c.req.method} is not allowed here; use ${allow}`, {
      headers: { allow },
    }).getResponse();
  });
  app.onError((error) => {
    if (isActionError(error)) {
      if (error.status >= 500) logger.warn('request failed', { code: error.code, error: logSafe(error) });
      return error.getResponse();
    }
    logger.error('unhandled error', { error: logSafe(error) });
    return jsonResponse(INTERNAL_ERROR, 500);
  });
  return app;
}
