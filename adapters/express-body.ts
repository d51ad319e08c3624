/**
 * @module adapters/express-body: what a host's body parsers (`express.json()`, `urlencoded()`,
 * `text()`, `raw()`) leave behind, translated back: the bytes they consumed, and their
 * rejections of a client's body as the provider's JSON errors.
 */
import type { Request as ExpressRequest } from 'express';
import { ActionError } from '../src/index.ts';

/** The bytes a host body parser already read, or undefined when the stream is untouched. */
export function consumedBody(req: ExpressRequest & { rawBody?: unknown; _body?: unknown }): Buffer | undefined {
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

/** The provider's answer to a body parser's rejection of the client's body; undefined for any other error. */
export function parserError(error: unknown): ActionError | undefined {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  // Own keys only: a `type` of 'constructor' or 'toString' is no parser error.
  return typeof type === 'string' && Object.hasOwn(PARSER_ERRORS, type) ? PARSER_ERRORS[type]?.() : undefined;
}
