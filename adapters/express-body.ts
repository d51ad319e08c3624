/**
 * @module adapters/express-body: what a host's body parsers (`express.json()`, `urlencoded()`,
 * `text()`, `raw()`) leave behind, turned back into the bytes the provider would have read, so
 * that it answers as it does without them (`"x"` 422, an empty or invalid body 400, a body
 * nested 50,000 deep whatever it answers that) and only after authenticating the caller.
 */
import type { IncomingMessage } from 'node:http';
import { ActionError } from '../src/index.ts';
import { escaped } from './answers.ts';
import { jsonText } from './json-text.ts';

/** An Express request as far as this module reads it (structural: no @types/express needed). */
export type HostRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: unknown };

/** The bytes a host body parser already read, or undefined when the stream is untouched. */
export function consumedBody(req: HostRequest): Buffer | undefined {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  // body-parser 1 marks what it consumed with `_body`; a stream read by anything else has ended.
  if (req._body !== true && !req.readableEnded) return undefined;
  // json() and urlencoded() make {} of an empty body.
  if (req.headers['content-length'] === '0') return Buffer.alloc(0);
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined) return Buffer.alloc(0); // read by something that kept nothing
  if (typeof body === 'string' && !decodedJsonString(req, body)) return Buffer.from(body);
  return Buffer.from(jsonText(body) ?? '');
}

/**
 * Whether a string body is a JSON string a parser decoded (`json({ strict: false })` given
 * `"x"`) rather than text (`text()`): text keeps every declared byte, while decoding drops at
 * least the quotes, from a source at least as long as the string written back as JSON.
 */
function decodedJsonString(req: HostRequest, body: string): boolean {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (!Number.isInteger(declared) || req.headers['content-encoding'] !== undefined) return false;
  return Buffer.byteLength(body) < declared && Buffer.byteLength(JSON.stringify(body)) <= declared;
}

/** What to do about a host body parser's error under the mount. */
export type ParserOutcome =
  /** Hand the request to the provider: with these bytes, or (undefined) with its untouched stream. */
  { readonly dispatch: Buffer | undefined } | { readonly answer: ActionError };

/** Rejections body-parser makes before it reads a byte, leaving the stream to the provider. */
const BEFORE_READING = new Set(['charset.unsupported', 'encoding.unsupported']);

/** Our answer to body-parser's and raw-body's errors, by type, once the body is gone. */
const ANSWERS: Record<string, (error: unknown) => ActionError> = {
  'entity.parse.failed': () => new ActionError('BadActionRequest', 'Invalid JSON'),
  'entity.too.large': () => new ActionError('PayloadTooLarge', "Request body exceeds the host's body parser limit"),
  'entity.verify.failed': () => new ActionError('BadActionRequest', 'Invalid request body'),
  'encoding.unsupported': () => new ActionError('BadActionRequest', 'Unsupported content encoding'),
  'charset.unsupported': () => new ActionError('BadActionRequest', 'Unsupported charset'),
  'parameters.too.many': () => new ActionError('PayloadTooLarge', 'Too many form parameters'),
  'querystring.parse.rangeError': () => new ActionError('BadActionRequest', 'Form nested too deep'),
  'request.aborted': () => new ActionError('BadActionRequest', 'Request body incomplete'),
  'request.size.invalid': () => new ActionError('BadActionRequest', 'Request body does not match its length'),
  // The host's or another middleware's doing (the stream was set up or consumed wrongly), not the client's.
  'stream.encoding.set': escaped,
  'stream.not.readable': escaped,
};

/**
 * What the provider would have read of a body that does not decompress: bytes that are no JSON
 * (without a host parser it reads the compressed bytes as they are, and they are none either).
 * The parser has drained the real ones, so these stand in for them: the provider still routes,
 * authenticates and answers as it would (404, 405, 401, or 400 Invalid JSON).
 */
const NOT_JSON = Buffer.from([0xff]);

/**
 * Whether body-parser failed to inflate the body (`Content-Encoding` gzip, deflate or br with
 * bytes that are not): it passes zlib's own error on with status 400 and no `type`.
 */
function isInflateError(error: object, req: HostRequest): boolean {
  const { status, code } = error as { status?: unknown; code?: unknown };
  const encoding = req.headers['content-encoding'];
  return (
    status === 400 &&
    typeof code === 'string' &&
    // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR) and brotli's (ERR__ERROR_FORMAT_PADDING_1, ...)
    /^(Z_|ERR__ERROR_)/.test(code) &&
    encoding !== undefined &&
    encoding !== 'identity' &&
    req.readableEnded
  );
}

/**
 * The provider's way with a body parser's error: what the parser failed to parse (body-parser
 * attaches the text, whatever threw: JSON.parse, qs's depth limit, a host's reviver) goes to the
 * provider as bytes, a rejection made before reading goes to it as the stream, and the rest are
 * answered as JSON. A body the host's own `verify` rejected stays rejected: that is the host's
 * decision. Undefined for anything that is not a body parser's error (a host's 429, say).
 */
export function parserOutcome(error: unknown, req: HostRequest): ParserOutcome | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, body } = error as { type?: unknown; body?: unknown };
  if (isInflateError(error, req)) return { dispatch: NOT_JSON };
  if (typeof type !== 'string') return undefined;
  // Only a parser that read the body to its end attaches it (a middleware's own error never does).
  if (type !== 'entity.verify.failed' && typeof body === 'string' && req.readableEnded) {
    return { dispatch: Buffer.from(body) };
  }
  if (BEFORE_READING.has(type) && !req.readableDidRead) return { dispatch: undefined };
  // Own keys only: a `type` of 'constructor' or 'toString' is no parser error.
  return Object.hasOwn(ANSWERS, type)
    ? { answer: (ANSWERS[type] as (error: unknown) => ActionError)(error) }
    : undefined;
}
