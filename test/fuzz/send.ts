/**
 * @module test/fuzz/send: one request over real HTTP with node:http, which (unlike fetch)
 * sends any method, TRACE and HEAD bodies included, chunked or with a Content-Length that
 * lies. The answer is read whole, or the request is given up after the hang timeout.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { WireRequest } from './request.ts';

export type Outcome =
  | { kind: 'answer'; status: number; headers: IncomingHttpHeaders; body: Buffer; ms: number }
  /** No complete answer within the timeout. */
  | { kind: 'hang'; ms: number }
  /** The connection failed or closed without an answer. */
  | { kind: 'error'; code: string; message: string; ms: number; reused?: boolean }
  /** A truncated body was abandoned, as the client promised bytes it never sent; no answer was owed. */
  | { kind: 'abandoned'; ms: number }
  /** Node's own client would not send it: nothing was asked of the server. */
  | { kind: 'unsendable'; message: string };

export interface SendOptions {
  /** Base URL, e.g. `http://127.0.0.1:1234/ap` (no trailing slash). */
  base: string;
  agent: Agent;
  timeoutMs: number;
  /** How long a truncated request waits for an early answer (a 413, say) before giving up. */
  truncatedWaitMs?: number;
}

const ignore = () => {};

/** A keep-alive agent for `concurrency` requests in flight. */
export const keepAliveAgent = (concurrency: number) => new Agent({ keepAlive: true, maxSockets: concurrency });

/**
 * Send `wire` and read the answer. A keep-alive connection the server closed just as it was
 * reused fails before anything was sent; as Node's documentation advises, that request is sent
 * again once, on a connection of its own, so a race of idle sockets is not taken for a fault.
 */
export async function send(wire: WireRequest, options: SendOptions): Promise<Outcome> {
  const outcome = await attempt(wire, options, options.agent);
  return outcome.kind === 'error' && outcome.reused ? attempt(wire, options, false) : outcome;
}

function attempt(wire: WireRequest, options: SendOptions, agent: Agent | false): Promise<Outcome> {
  const url = new URL(options.base);
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const truncated = wire.framing === 'truncated';
  const headers = wireHeaders(wire);
  const explicitLength = wire.headers.some(([name]) => name === 'content-length');
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // An answer that came before the body was all written (an early 413) leaves the connection
      // mid-request: it must not be reused.
      if (outcome.kind !== 'answer' || !req.writableFinished) req.destroy();
      resolve(outcome);
    };
    const wait = truncated ? (options.truncatedWaitMs ?? 300) : options.timeoutMs;
    const timer = setTimeout(
      () => settle(truncated ? { kind: 'abandoned', ms: ms() } : { kind: 'hang', ms: ms() }),
      wait,
    );
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: wire.method,
        path: url.pathname.replace(/\/$/, '') + wire.path,
        headers,
        // A request that breaks framing spoils its connection: give it one of its own.
        agent: truncated || explicitLength ? false : agent,
        setHost: !('host' in headers),
      });
    } catch (error) {
      // Node's client refuses to send it (a character it will not put on the wire): no server was asked.
      clearTimeout(timer);
      return resolve({ kind: 'unsendable', message: (error as Error).message });
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      const answer = () => ({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      res.on('end', () => settle({ kind: 'answer', ...answer(), ms: ms() }));
      res.on('error', (error: NodeJS.ErrnoException) => settle(failure(error, ms())));
    });
    // node:http's client hands the answer to a CONNECT to 'connect' (with the socket), never to
    // 'response'. Ours closes the connection after it, so the body is the rest of the socket.
    req.on('connect', (res, socket, head: Buffer) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () =>
        settle({
          kind: 'answer',
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          ms: ms(),
        }),
      );
      socket.on('error', (error: NodeJS.ErrnoException) => settle(failure(error, ms())));
    });
    // A write the server cut off can fail on the socket after the request is done with it;
    // the request has already been judged by then.
    req.on('socket', (socket) => {
      if (!socket.listeners('error').includes(ignore)) socket.on('error', ignore);
    });
    let answered = false;
    req.on('response', () => {
      answered = true;
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (truncated) return settle({ kind: 'abandoned', ms: ms() });
      const reused = req.reusedSocket && !answered && error.code === 'ECONNRESET';
      settle({ ...failure(error, ms()), ...(reused ? { reused } : {}) });
    });
    writeBody(req, wire);
  });
}

/** Headers as node:http takes them (repeats as arrays), with the framing's Content-Length or Transfer-Encoding. */
function wireHeaders(wire: WireRequest): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of wire.headers) {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  if (!('content-length' in headers) && wire.body !== undefined) {
    if (wire.framing === 'length') headers['content-length'] = String(wire.body.byteLength);
    // Promise more than is sent: the server waits for bytes that never come.
    if (wire.framing === 'truncated') headers['content-length'] = String(wire.body.byteLength + 100);
  }
  if (wire.framing === 'chunked') headers['transfer-encoding'] = 'chunked';
  return headers;
}

function failure(error: NodeJS.ErrnoException, ms: number): Extract<Outcome, { kind: 'error' }> {
  return { kind: 'error', code: error.code ?? error.name, message: error.message, ms };
}

function writeBody(req: ReturnType<typeof httpRequest>, wire: WireRequest): void {
  const body = wire.body;
  if (body === undefined) return void req.end();
  if (wire.framing !== 'chunked' || body.byteLength < 2) return void req.end(body);
  // Three pieces, cut mid-character where the body has multi-byte ones.
  const a = Math.floor(body.byteLength / 3);
  const b = Math.floor((2 * body.byteLength) / 3);
  req.write(body.subarray(0, a));
  req.write(body.subarray(a, b));
  req.end(body.subarray(b));
}
