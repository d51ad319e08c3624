/**
 * @module adapters/express: mount a provider in an Express app with `app.use('/prefix', ...)`.
 *
 * Works whether or not the host installed `express.json()`, `express.urlencoded()`,
 * `express.text()` or `express.raw()` before it: the provider answers as it would without
 * them. A body they consumed is taken from `req.rawBody` or written back from `req.body`; a body
 * they rejected reaches the provider as the text they could not parse; an untouched body is
 * streamed. Express is not imported at all, not even its types: the handlers are typed with
 * node:http's, which Express's extend, so a consumer compiles without @types/express.
 */
import type { ServerResponse } from 'node:http';
import type { ActionError } from '../src/index.ts';
import { escaped } from './answers.ts';
import { consumedBody, type HostRequest, parserOutcome } from './express-body.ts';

export type { HealthOption, HealthRoutes } from './contract.ts';
export type { HostRequest } from './express-body.ts';
export { expressHealth } from './express-health.ts';

import { type FetchProvider, nodeListener } from './node.ts';

/** Express's `next`: on with an error, or on to the next handler. */
export type NextFunction = (error?: unknown) => void;
/** A request handler as Express calls it (its `RequestHandler`, structurally). */
export type RequestHandler = (req: HostRequest, res: ServerResponse, next: NextFunction) => void;
/** An error handler as Express calls it (four parameters: Express tells them by their count). */
export type ErrorRequestHandler = (error: unknown, req: HostRequest, res: ServerResponse, next: NextFunction) => void;

/** Our JSON error with the provider's headers (Express's `set()` and `json()` add a charset to its content type). */
const send = (res: ServerResponse, error: ActionError) =>
  void res.writeHead(error.status, error.getResponseHeaders()).end(JSON.stringify(error.toJSON()));

/**
 * The provider as Express middleware: a request handler, plus an error handler for a host body
 * parser's rejection of a body under this mount (invalid JSON, too deep, too large), answered
 * as the provider answers it instead of with Express's HTML page. Any other error goes on to
 * the host's handlers.
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
  const dispatch = (req: HostRequest, res: ServerResponse, body: Buffer | undefined) => {
    if (body !== undefined) Object.defineProperty(req, 'rawBody', { value: body, configurable: true, writable: true });
    return listener(req, res);
  };
  const handle: RequestHandler = (req, res, next) => {
    let body: Buffer | undefined;
    try {
      body = consumedBody(req);
    } catch (error) {
      return send(res, escaped(error)); // a parsed body JSON cannot write (a host reviver's BigInt, say)
    }
    dispatch(req, res, body).catch(next);
  };
  const handleParserError: ErrorRequestHandler = (error, req, res, next) => {
    const outcome = res.headersSent ? undefined : parserOutcome(error, req);
    if (outcome === undefined) return next(error);
    if ('answer' in outcome) return send(res, outcome.answer);
    dispatch(req, res, outcome.dispatch).catch(next);
  };
  return [handle, handleParserError];
}
