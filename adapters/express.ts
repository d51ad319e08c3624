/**
 * @module adapters/express: mount a provider in an Express app with `app.use('/prefix', ...)`.
 *
 * Works whether or not the host installed `express.json()`, `express.urlencoded()`,
 * `express.text()` or `express.raw()` before it: the provider answers as it would without
 * them. A body they consumed is taken from `req.rawBody` or written back from `req.body`; a body
 * they rejected reaches the provider as the text they could not parse; an untouched body is
 * streamed. Express is imported as types only, so it is no runtime dependency.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { ActionError } from '../src/index.ts';
import { escaped } from './answers.ts';
import { consumedBody, parserOutcome } from './express-body.ts';
import { type FetchProvider, nodeListener } from './node.ts';

/** Our JSON error with the provider's headers (Express's `set()` and `json()` add a charset to its content type). */
const send = (res: Response, error: ActionError) =>
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
  const dispatch = (req: Request, res: Response, body: Buffer | undefined) => {
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
  const handleParserError: ErrorRequestHandler = (error: unknown, req, res, next) => {
    const outcome = res.headersSent ? undefined : parserOutcome(error, req);
    if (outcome === undefined) return next(error);
    if ('answer' in outcome) return send(res, outcome.answer);
    dispatch(req, res, outcome.dispatch).catch(next);
  };
  return [handle, handleParserError];
}
