/**
 * @module adapters/node-errors: JSON for what node:http and @hono/node-server answer before the
 * provider sees a request: a request they cannot parse (an empty 400, 408 or 431 of node:http's,
 * or @hono/node-server's empty 400 for a bad Host, a backslash path or an unusable absolute-form
 * URL), CONNECT (node:http hangs up without a word) and an unknown `Expect` (its empty 417).
 */
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RequestError } from '@hono/node-server';
import { ActionError } from '../src/index.ts';
import { badRequest, escapedError } from './answers.ts';

/** `getRequestListener`'s errorHandler: 400 for a request it could not build, the generic 500 for anything else. */
export function listenerError(error: unknown): Response {
  // The messages are @hono/node-server's own fixed wording ("Invalid host header", "Invalid URL").
  return error instanceof RequestError ? badRequest(error.message) : escapedError(error);
}

/** node:http's parse and timeout errors (its `code`s), as our errors. */
function clientErrorAnswer(code: string | undefined): ActionError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ActionError('RequestTimeout', 'The request did not arrive in time');
    case 'HPE_HEADER_OVERFLOW':
      return new ActionError('BadActionRequest', 'Request headers are too large');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ActionError('PayloadTooLarge', 'Chunk extensions are too large');
    case 'HPE_INVALID_METHOD':
      return new ActionError('BadActionRequest', 'Unsupported HTTP method');
    default:
      return new ActionError('BadActionRequest', 'Malformed HTTP request');
  }
}

/**
 * `error` as a whole HTTP/1.1 response that closes the connection (there is no ServerResponse to
 * write it). The answer to a HEAD has no body (a client would read it as bytes after the close).
 */
function wire(error: ActionError, head: boolean): string {
  const body = JSON.stringify(error.toJSON());
  const headers = {
    ...error.getResponseHeaders(),
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n${lines.join('')}\r\n${head ? '' : body}`;
}

/** Whether the bytes node:http failed to parse are a HEAD request's (its request line is in them when they start it). */
const isHead = (error: { rawPacket?: unknown }): boolean =>
  Buffer.isBuffer(error.rawPacket) && error.rawPacket.toString('latin1', 0, 5) === 'HEAD ';

/** The socket's response in progress, if any (node:http's own check before it answers a client error). */
type HttpSocket = Duplex & { _httpMessage?: { headersSent?: boolean } | null };

function answer(socket: HttpSocket, error: ActionError, head = false): void {
  // As node:http does: write only if no response has started on this connection (a pipelined
  // request's, say), or the client would read our bytes in the middle of it.
  if (socket.writable && socket._httpMessage?.headersSent !== true) {
    socket.end(wire(error, head), () => socket.destroy());
  } else socket.destroy();
}

/** How long a connection closed after an early answer keeps reading what its client still sends. */
const LINGER_MS = 2_000;

/**
 * node:http destroys a connection that is to close (`Connection: close`) as soon as the answer is
 * written, even while the client is still sending a body the answer refused (a 413 before the
 * rest was read). The client's kernel then gets a reset, drops the answer unread, and the
 * client sees EPIPE or ECONNRESET instead of the 413. Here the connection is closed for writing
 * instead and what still arrives is read and discarded, until the client closes too or
 * LINGER_MS pass: nginx's lingering close (RFC 9112, section 9.6).
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    if (this.destroyed) return;
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => this.destroy());
    this.resume();
  };
}

/**
 * Make `server`'s own answers JSON: a malformed request line or header, headers too large, a
 * request that does not arrive within `headersTimeout`/`requestTimeout` (408), and CONNECT (405),
 * each on a connection then closed; an `Expect` it does not know is ignored (not an empty 417);
 * and a connection closed after an early answer lingers, so its client reads the answer. `serve()` does this itself; call it on a host's own server
 * around `nodeListener` (this sets its `clientError` and `connect` handling for every route).
 *
 * @example
 * ```ts
 * const server = jsonClientErrors(http.createServer(nodeListener(provider)))
 * ```
 */
export function jsonClientErrors<S extends Server>(server: S): S {
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: HttpSocket) => {
    // A reset connection has no one left to answer.
    if (error.code === 'ECONNRESET') socket.destroy();
    else answer(socket, clientErrorAnswer(error.code), isHead(error));
  });
  server.on('connect', (request: IncomingMessage, socket: HttpSocket) => {
    answer(socket, new ActionError('MethodNotAllowed', `${request.method} is not allowed here`));
  });
  server.on('connection', lingerOnClose);
  // An Expect other than 100-continue: node:http answers an empty 417 unless someone listens.
  // Werkzeug (the Python toolkit's server) ignores what it does not know, and RFC 9110 lets a
  // server do so: the request is answered as if the header were absent.
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    server.emit('request', request, response);
  });
  return server;
}
