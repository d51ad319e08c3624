/**
 * @module adapters/express: mount a provider in an Express app with `app.use('/prefix', ...)`.
 *
 * Works whether or not the host installed `express.json()`, `express.urlencoded()`,
 * `express.text()` or `express.raw()` before it: a body they already consumed is taken from
 * `req.rawBody` or re-serialised from `req.body`; an untouched body is streamed. Express is
 * imported as types only, so it is no runtime dependency.
 */
import type { NextFunction, Request as ExpressRequest, RequestHandler, Response as ExpressResponse } from 'express';
import { nodeListener, type FetchProvider } from './node.ts';

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

/**
 * @example
 * ```ts
 * app.use(express.json())
 * app.use('/echo', expressMiddleware(provider))
 * ```
 */
export function expressMiddleware(provider: FetchProvider): RequestHandler {
  // Express has already stripped the mount path from req.url, so no prefix is needed here.
  const listener = nodeListener(provider);
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    const body = consumedBody(req);
    if (body !== undefined) Object.defineProperty(req, 'rawBody', { value: body, configurable: true, writable: true });
    listener(req, res).catch(next);
  };
}
