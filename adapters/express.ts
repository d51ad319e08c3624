/**
 * @module adapters/express: mount a provider in an Express app with `app.use('/prefix', ...)`.
 *
 * Works whether or not the host installed `express.json()`, `express.urlencoded()`,
 * `express.text()` or `express.raw()` before it: a body they already consumed is taken from
 * `req.rawBody` or re-serialised from `req.body`; an untouched body is streamed. Express is
 * imported as types only, so it is no runtime dependency.
 */
import type {
  ErrorRequestHandler,
  Request as ExpressRequest,
  Response as ExpressResponse,
  NextFunction,
  RequestHandler,
} from 'express';
import { ActionError } from '../src/index.ts';
import { type FetchProvider, nodeListener } from './node.ts';

/** The bytes a host body parser already read, or undefined when the stream is untouched. */
function consumedBody(req: ExpressRequest & { rawBody?: unknown; _body?: unknown }): Buffer | undefined {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  // body-parser marks what it consumed with `_body`; a stream read by anything else has ended.
  if (req._body !== true && !req.readableEnded) return undefined;
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body === undefined || body === null) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(body));
}

/** body-parser's error types that mean "the client sent a bad body", and our answer to each. */
const PARSER_ERRORS: Record<string, () => ActionError> = {
  'entity.parse.failed': () => new ActionError('BadActionRequest', 'Invalid JSON'),
  'entity.too.large': () => new ActionError('PayloadTooLarge', "Request body exceeds the host's body parser limit"),
  'entity.verify.failed': () => new ActionError('BadActionRequest', 'Invalid request body'),
  'encoding.unsupported': () => new ActionError('BadActionRequest', 'Unsupported content encoding'),
  'charset.unsupported': () => new ActionError('BadActionRequest', 'Unsupported charset'),
};

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
  const handle: RequestHandler = (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    const body = consumedBody(req);
    if (body !== undefined) Object.defineProperty(req, 'rawBody', { value: body, configurable: true, writable: true });
    listener(req, res).catch(next);
  };
  const handleParserError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
    const answer = typeof type === 'string' ? PARSER_ERRORS[type] : undefined;
    if (answer === undefined || res.headersSent) return next(error);
    const actionError = answer();
    res
      .status(actionError.status)
      .set({ ...actionError.getResponseHeaders() })
      .json(actionError.toJSON());
  };
  return [handle, handleParserError];
}
