/**
 * @module adapters/express: mount a provider in an Express app with `app.use('/prefix', ...)`.
 *
 * Works whether or not the host installed `express.json()`, `express.urlencoded()`,
 * `express.text()` or `express.raw()` before it: a body they already consumed is taken from
 * `req.rawBody` or re-serialised from `req.body`; an untouched body is streamed. Express is
 * imported as types only, so it is no runtime dependency.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { consumedBody, parserError } from './express-body.ts';
import { type FetchProvider, nodeListener } from './node.ts';

/**
 * The provider as Express middleware: a request handler, plus an error handler that answers a
 * host body parser's rejection of a body under this mount (invalid JSON, too large) with the
 * provider's JSON error instead of an HTML page. Any other error goes on to the host's handlers.
 *
 * @example
 * ```ts
 * app.use(express.json())
 * app.use('/echo', expressMiddleware(provider))
 * ```
 */
export function expressMiddleware(provider: FetchProvider): [RequestHandler, ErrorRequestHandler] {
  // Express has already stripped the mount path from req.url, so no prefix is needed here.
  const listener = nodeListener(provider);
  const handle: RequestHandler = (req, res, next) => {
    const body = consumedBody(req);
    if (body !== undefined) Object.defineProperty(req, 'rawBody', { value: body, configurable: true, writable: true });
    listener(req, res).catch(next);
  };
  const handleParserError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    const actionError = parserError(error);
    if (actionError === undefined || res.headersSent) return next(error);
    res
      .status(actionError.status)
      .set({ ...actionError.getResponseHeaders() })
      .json(actionError.toJSON());
  };
  return [handle, handleParserError];
}
